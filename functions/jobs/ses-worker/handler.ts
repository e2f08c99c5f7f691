import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { integerEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { SesBudget } from '#shared/ses/budget.js';
import { handler as changeDkimSigning } from '#steps/change-dkim-signing/handler.js';
import { handler as checkReplica } from '#steps/check-replica/handler.js';
import { handler as checkVerification } from '#steps/check-verification/handler.js';
import { handler as configureSending } from '#steps/configure-sending/handler.js';
import { handler as createIdentity } from '#steps/create-identity/handler.js';
import { handler as createReplica } from '#steps/create-replica/handler.js';
import { handler as deleteIdentity } from '#steps/delete-identity/handler.js';
import { handler as readDkimSigning } from '#steps/read-dkim-signing/handler.js';
import { handler as rollBackDkimSigning } from '#steps/roll-back-dkim-signing/handler.js';
import { runQueuedStep, type StepHandler } from './run-queued-step.js';

/**
 * The Task states whose work calls SES. The state machine queues it on the SES request queue
 * (FIFO, one message group per lane of SES actions) instead of invoking their Lambdas, and this
 * worker runs each step's own handler under the SES budget. The records of a batch run side by
 * side (the batch processor's default); the budget orders each action's calls.
 */
const QUEUED_STEPS: Record<string, StepHandler> = {
  CreateIdentity: createIdentity,
  ReadDkimSigning: readDkimSigning,
  ChangeDkimSigning: changeDkimSigning,
  ConfigureSending: configureSending,
  CheckVerification: checkVerification,
  DeleteIdentity: deleteIdentity,
  CreateReplica: createReplica,
  CheckReplica: checkReplica,
  RollBackDkimSigning: rollBackDkimSigning,
};

// Module scope: one budget for the life of this worker, the only one that calls SES for runs.
const budget = new SesBudget(integerEnv('SES_REQUESTS_PER_SECOND', 1));
const maxDeliveries = integerEnv('SES_REQUEST_MAX_DELIVERIES', 10);
const queueUrl = requireEnv('SES_REQUEST_QUEUE_URL');
const processor = new BatchProcessor(EventType.SQS);

/**
 * Only a throttled step needs SQS: its client is made on that first need (a chunk of its own in
 * the bundle), not at every cold start.
 */
async function returnToQueue(record: SQSRecord, seconds: number): Promise<void> {
  const { sqsClient } = await import('#shared/aws/clients/sqs.js');
  await sqsClient.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}

/**
 * SES request worker: runs queued steps at SES's rate; a message whose step was throttled goes
 * back to the queue (a partial batch failure) and its run keeps waiting.
 */
export const handler = lambdaHandler(async (event: SQSEvent, context: Context) =>
  processPartialResponse(
    event,
    (record: SQSRecord) =>
      runQueuedStep(record, {
        steps: QUEUED_STEPS,
        budget,
        context,
        maxDeliveries,
        returnToQueue,
      }),
    processor,
    // A batch whose every step SES throttled is the queue working as meant, not a function
    // error: its messages are reported back one by one, as in any other batch.
    { context, throwOnFullBatchFailure: false },
  ),
);
