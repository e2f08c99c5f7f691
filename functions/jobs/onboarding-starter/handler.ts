import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { type StarterConfig, startFromEvent } from './start-from-event.js';

const config: StarterConfig = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
  dkimChangeDetailType: requireEnv('ONBOARDING_DKIM_CHANGE_DETAIL_TYPE'),
  eventBusName: requireEnv('EVENT_BUS_NAME'),
  eventSource: requireEnv('EVENT_SOURCE'),
};
const processor = new BatchProcessor(EventType.SQS);

/**
 * The onboarding starter: onboarding events arrive through the rule's SQS queue (each message
 * is the whole EventBridge event) and start runs through the API's own start logic. A message
 * whose start failed for a transient reason goes back to the queue (partial batch failure), then
 * to the dead-letter queue, which an alarm watches.
 */
export const handler = lambdaHandler(async (event: SQSEvent, context: Context) =>
  processPartialResponse(
    event,
    async (record: SQSRecord) => {
      await startFromEvent(JSON.parse(record.body) as EventBridgeEvent<string, unknown>, config);
    },
    processor,
    { context },
  ),
);
