import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { Context, SQSRecord } from 'aws-lambda';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import { logger } from '#shared/runtime/observability.js';
import { type SesBudget, withSesBudget } from '#shared/ses/budget.js';
import { RETRYABLE_ERROR_NAMES } from '#shared/workflow/errors.js';

/** A Task state's work, as the state machine queued it (sqs:sendMessage.waitForTaskToken). */
export interface QueuedStep {
  /** The Task state's name: which step's code to run. */
  step: string;
  /** The step's input, as the state machine would have invoked its Lambda with. */
  input: unknown;
  /** Hands the outcome back to the waiting run. */
  task_token: string;
}

/**
 * A step's Lambda handler, run here in-process with the worker's context. Each handler types its
 * own event; the queued input is whatever the state machine sent for that step.
 */
export type StepHandler = (event: never, context: Context) => Promise<unknown>;

export interface QueuedStepOptions {
  steps: Record<string, StepHandler>;
  budget: SesBudget;
  context: Context;
  /**
   * Deliveries of one message after which a retryable failure (SES throttling, a 5xx) goes to
   * the run instead of back to the queue, where the state machine's own Retry takes it up.
   */
  maxDeliveries: number;
  /**
   * Makes a message that goes back to the queue visible again in `seconds`
   * (ChangeMessageVisibility). Without it the message would stay in flight for the queue's
   * whole visibility time-out, and hold its message group, its lane of SES actions, as long: "in
   * flight messages block delivery of available messages within the same message group", and
   * ChangeMessageVisibility shortens that (https://repost.aws/knowledge-center/sqs-fifo-messages-not-returned).
   */
  returnToQueue: (record: SQSRecord, seconds: number) => Promise<void>;
}

/** The longest a throttled step waits before its message is delivered again. */
export const MAX_REQUEUE_DELAY_SECONDS = 60;

/**
 * How long a message that failed on its `deliveries`-th delivery stays out of sight: 2, 4, 8,
 * 16, 32, then 60 seconds. SES throttled its lane, so the lane backs off as a whole (its other
 * messages wait behind this one, as a FIFO group does); a fixed short delay would knock on a
 * budget that someone else is spending.
 */
export function requeueDelaySeconds(deliveries: number): number {
  return Math.min(MAX_REQUEUE_DELAY_SECONDS, 2 ** Math.max(1, deliveries));
}

/** A throttled or failing SES call that goes back to the queue to be tried again later. */
export class RequeueError extends Error {
  override name = 'RequeueError';
}

/**
 * Runs one queued step under the SES budget and hands its outcome to the waiting run: its output
 * with SendTaskSuccess, or its error with SendTaskFailure (the error's class name is what the
 * ASL's Retry and Catch match, and the cause is Lambda's `{errorType, errorMessage}`, so that a
 * queued step fails exactly as an invoked one). A retryable failure is first retried through the
 * queue: the message returns to it (throws RequeueError) until `maxDeliveries`.
 */
export async function runQueuedStep(record: SQSRecord, options: QueuedStepOptions): Promise<void> {
  const message = parseMessage(record.body);
  const handler = options.steps[message.step];
  let outcome: { output: unknown } | { error: Error };
  if (handler === undefined) {
    outcome = { error: new Error(`No queued step named ${message.step}`) };
  } else {
    try {
      const output = await withSesBudget(options.budget, () =>
        handler(message.input as never, options.context),
      );
      outcome = { output };
    } catch (error) {
      outcome = { error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  if ('error' in outcome && isRetryable(outcome.error)) {
    const deliveries = Number(record.attributes.ApproximateReceiveCount);
    if (deliveries < options.maxDeliveries) {
      const delaySeconds = requeueDelaySeconds(deliveries);
      logger.warn('Queued step will be tried again', {
        step: message.step,
        errorName: outcome.error.name,
        deliveries,
        delaySeconds,
      });
      try {
        await options.returnToQueue(record, delaySeconds);
      } catch (error) {
        // The message still comes back, after the queue's visibility time-out.
        logger.warn('Could not shorten the visibility of a message going back to the queue', {
          step: message.step,
          error,
        });
      }
      throw new RequeueError(`${message.step}: ${outcome.error.name}`, { cause: outcome.error });
    }
  }
  await reportOutcome(message, outcome);
}

function isRetryable(error: Error): boolean {
  return (RETRYABLE_ERROR_NAMES as readonly string[]).includes(error.name);
}

async function reportOutcome(
  message: QueuedStep,
  outcome: { output: unknown } | { error: Error },
): Promise<void> {
  try {
    if ('output' in outcome) {
      await sfnClient.send(
        new SendTaskSuccessCommand({
          taskToken: message.task_token,
          output: JSON.stringify(outcome.output ?? null),
        }),
      );
    } else {
      await sfnClient.send(
        new SendTaskFailureCommand({
          taskToken: message.task_token,
          // Step Functions bounds error to 256 and cause to 32,768 characters.
          error: outcome.error.name.slice(0, 256),
          cause: JSON.stringify({
            errorType: outcome.error.name,
            errorMessage: outcome.error.message,
          }).slice(0, 32_768),
        }),
      );
    }
  } catch (error) {
    // The run is gone (stopped, timed out) or already has this outcome (a message delivered
    // twice): nobody is waiting for it.
    if (error instanceof TaskDoesNotExist || error instanceof TaskTimedOut) {
      logger.info('No run waits for this outcome any more', {
        step: message.step,
        errorName: error.name,
      });
      return;
    }
    throw error;
  }
}

function parseMessage(body: string): QueuedStep {
  const message = JSON.parse(body) as Partial<QueuedStep>;
  if (typeof message.step !== 'string' || typeof message.task_token !== 'string') {
    throw new Error('A queued step needs "step" and "task_token"');
  }
  return message as QueuedStep;
}
