import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { integerEnv } from '#shared/runtime/config.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { SesBudget } from '#shared/ses/budget.js';
import { handler as changeDkimSigning } from '#steps/change-dkim-signing/handler.js';
import { handler as checkVerification } from '#steps/check-verification/handler.js';
import { handler as createIdentity } from '#steps/create-identity/handler.js';
import { handler as deleteIdentity } from '#steps/delete-identity/handler.js';
import { handler as readDkimSigning } from '#steps/read-dkim-signing/handler.js';
import { runQueuedStep, type StepHandler } from './run-queued-step.js';

/**
 * The Task states whose work calls SES. The state machine queues it on the SES request queue
 * (FIFO, one message group: one batch at a time) instead of invoking their Lambdas, and this
 * worker runs each step's own handler under the SES budget.
 */
const QUEUED_STEPS: Record<string, StepHandler> = {
  CreateIdentity: createIdentity,
  ReadDkimSigning: readDkimSigning,
  ChangeDkimSigning: changeDkimSigning,
  CheckVerification: checkVerification,
  DeleteIdentity: deleteIdentity,
};

// Module scope: one budget for the life of this worker, the only one that calls SES for runs.
const budget = new SesBudget(integerEnv('SES_REQUESTS_PER_SECOND', 1));
const maxDeliveries = integerEnv('SES_REQUEST_MAX_DELIVERIES', 10);
const processor = new BatchProcessor(EventType.SQS);

/**
 * SES request worker: runs queued steps at SES's rate; a message whose step was throttled goes
 * back to the queue (a partial batch failure) and its run keeps waiting.
 */
export const handler = lambdaHandler(async (event: SQSEvent, context: Context) =>
  processPartialResponse(
    event,
    (record: SQSRecord) =>
      runQueuedStep(record, { steps: QUEUED_STEPS, budget, context, maxDeliveries }),
    processor,
    { context },
  ),
);
