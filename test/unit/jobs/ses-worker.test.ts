import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_REQUEUE_DELAY_SECONDS,
  RequeueError,
  requeueDelaySeconds,
  runQueuedStep,
  type StepHandler,
} from '#jobs/ses-worker/run-queued-step.js';
import { currentSesBudget, SesBudget } from '#shared/ses/budget.js';
import { ConflictError, ThrottlingError, ValidationError } from '#shared/workflow/errors.js';

const sfn = mockClient(SFNClient);
const context = { functionName: 'SesWorker', awsRequestId: 'r-1' } as Context;
const budget = new SesBudget(1000);

function record(body: unknown, receiveCount = 1): SQSRecord {
  return {
    messageId: 'm-1',
    receiptHandle: 'h-1',
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  } as unknown as SQSRecord;
}

const message = (step: string) => ({
  step,
  input: { EmailIdentity: 'a.example.com' },
  task_token: 'token-1',
});

const returnToQueue = vi.fn(async (_record: SQSRecord, _seconds: number) => {});

async function run(steps: Record<string, StepHandler>, body: unknown, receiveCount = 1) {
  return runQueuedStep(record(body, receiveCount), {
    steps,
    budget,
    context,
    maxDeliveries: 3,
    returnToQueue,
  });
}

describe('runQueuedStep', () => {
  beforeEach(() => {
    sfn.reset();
    returnToQueue.mockReset();
  });

  it('runs the step under the SES budget and hands its output to the waiting run', async () => {
    const step = vi.fn(async (input: unknown) => ({
      seen: input,
      budget: currentSesBudget() === budget,
    }));

    await run({ CreateIdentity: step as StepHandler }, message('CreateIdentity'));

    expect(step).toHaveBeenCalledWith({ EmailIdentity: 'a.example.com' }, context);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: JSON.stringify({ seen: { EmailIdentity: 'a.example.com' }, budget: true }),
    });
  });

  it.each([
    ['a conflict', new ConflictError('exists with another key'), 'ConflictError'],
    [
      'an invalid request',
      new ValidationError([{ field: 'EmailIdentity', message: 'is required' }]),
      'ValidationError',
    ],
  ])(
    'fails the run with %s under its class name, as a Lambda step would',
    async (_what, error, name) => {
      const step = async () => {
        throw error;
      };

      await run({ CreateIdentity: step }, message('CreateIdentity'));

      expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
        taskToken: 'token-1',
        error: name,
        cause: JSON.stringify({ errorType: name, errorMessage: error.message }),
      });
      expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    },
  );

  it('sends a throttled step back to the queue while deliveries remain, telling the run nothing', async () => {
    const step = async () => {
      throw new ThrottlingError('CreateEmailIdentity: TooManyRequestsException');
    };

    await expect(
      run({ CreateIdentity: step }, message('CreateIdentity'), 2),
    ).rejects.toBeInstanceOf(RequeueError);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    // Back in view after 4 seconds (its second delivery), not the queue's visibility time-out.
    expect(returnToQueue).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ receiptHandle: 'h-1' }),
      4,
    );
  });

  it('still sends a throttled step back when its visibility cannot be shortened', async () => {
    returnToQueue.mockRejectedValueOnce(new Error('MessageNotInflight'));
    const step = async () => {
      throw new ThrottlingError('GetEmailIdentity: TooManyRequestsException');
    };

    await expect(
      run({ CheckVerification: step }, message('CheckVerification')),
    ).rejects.toBeInstanceOf(RequeueError);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('does not touch the visibility of a message whose outcome went to the run', async () => {
    await run({ CheckVerification: async () => ({}) }, message('CheckVerification'));
    const throttled = async () => {
      throw new ThrottlingError('CreateEmailIdentity: TooManyRequestsException');
    };
    await run({ CreateIdentity: throttled }, message('CreateIdentity'), 3);

    expect(returnToQueue).not.toHaveBeenCalled();
  });

  it('hands a still-throttled step to the run once its deliveries are spent, for the ASL to retry', async () => {
    const step = async () => {
      throw new ThrottlingError('CreateEmailIdentity: TooManyRequestsException');
    };

    await run({ CreateIdentity: step }, message('CreateIdentity'), 3);

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-1',
      error: 'ThrottlingError',
    });
  });

  it('drops the outcome quietly when no run waits for it any more', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'gone', $metadata: {} }));

    await expect(
      run({ CheckVerification: async () => ({}) }, message('CheckVerification')),
    ).resolves.toBeUndefined();
  });

  it('fails the run when the state machine queued a step the worker does not know', async () => {
    await run({}, message('Unknown'));

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-1',
      error: 'Error',
    });
  });

  it('leaves a message without a task token to the dead-letter queue', async () => {
    await expect(run({}, { step: 'CreateIdentity' })).rejects.toThrow('"task_token"');
  });
});

describe('requeueDelaySeconds', () => {
  it.each([
    [1, 2],
    [2, 4],
    [3, 8],
    [5, 32],
    [6, MAX_REQUEUE_DELAY_SECONDS],
    [19, MAX_REQUEUE_DELAY_SECONDS],
  ])('keeps a message throttled on delivery %i out of sight for %i seconds', (n, seconds) => {
    expect(requeueDelaySeconds(n)).toBe(seconds);
  });
});
