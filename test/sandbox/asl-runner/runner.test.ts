import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
} from '@aws-sdk/client-dynamodb';
import { QueueDoesNotExist, SQSServiceException } from '@aws-sdk/client-sqs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaHandler, TaskClients } from '#sandbox/asl-runner/local-tasks.js';
import { AslRunner } from '#sandbox/asl-runner/runner.js';
import { TaskTokens } from '#sandbox/asl-runner/task-tokens.js';
import { VirtualClock } from '#sandbox/clock.js';

const START = Date.parse('2026-11-02T09:00:00.000Z');
const FUNCTION = 'arn:aws:lambda:us-east-1:000000000000:function:worker';

const unused = { send: async () => ({}) };

describe('the ASL runner', () => {
  let clock: VirtualClock;
  let tokens: TaskTokens;
  let runs = 0;
  beforeEach(() => {
    clock = new VirtualClock({ start: START });
    clock.install();
    tokens = new TaskTokens();
  });
  afterEach(() => clock.uninstall());

  /** Runs a small definition to its end; resolves with its output (or its error's name). */
  async function run(
    definition: object,
    input: unknown,
    options: { handlers?: Record<string, LambdaHandler>; clients?: Partial<TaskClients> } = {},
  ): Promise<unknown> {
    runs += 1;
    const runner = new AslRunner({
      definition: definition as StateMachineDefinition,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Small',
      stateMachineName: 'Small',
      region: 'us-east-1',
      handlers: options.handlers ?? {},
      clients: { eventBridge: unused, sqs: unused, dynamodb: unused, ...options.clients },
      tokens,
      around: (_stateName, work) => clock.runWork(work),
    });
    const execution = runner.start(input, {
      name: `run-${runs}`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:Small:run-${runs}`,
    });
    return execution.result.catch((error: Error & { cause?: Error }) => error.cause?.name);
  }

  it('fills $$.State and hands each attempt of a Task its own token', async () => {
    const seen: { token: string; state: unknown }[] = [];
    const worker: LambdaHandler = async (event) => {
      const { token, state } = event as { token: string; state: unknown };
      seen.push({ token, state });
      // The first attempt fails; the retry answers its token at once.
      if (seen.length === 1) throw Object.assign(new Error('busy'), { name: 'Busy' });
      setTimeout(() => tokens.succeed(token, JSON.stringify({ answered: true })), 10_000);
      return null;
    };

    const output = await run(
      {
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: FUNCTION,
              Payload: {
                'token.$': '$$.Task.Token',
                'state.$': '$$.State',
                'name.$': '$$.State.Name',
              },
            },
            TimeoutSeconds: 60,
            Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 3, MaxAttempts: 1 }],
            End: true,
          },
        },
      },
      {},
      { handlers: { worker } },
    );

    expect(output).toEqual({ answered: true });
    const [first, second] = seen;
    expect(first?.token).not.toBe(second?.token);
    expect(first?.state).toEqual({
      Name: 'Wait',
      EnteredTime: new Date(START).toISOString(),
      RetryCount: 0,
    });
    // The retry is the same entry into the state, three seconds later.
    expect(second?.state).toEqual({
      Name: 'Wait',
      EnteredTime: new Date(START).toISOString(),
      RetryCount: 1,
    });
    // The failed attempt's token ended with it.
    expect(() => tokens.succeed(first?.token, '{}')).toThrow(
      expect.objectContaining({ code: 'TaskTimedOut' }),
    );
  });

  it('times a Task out by TimeoutSecondsPath read from the state input, not from its Parameters', async () => {
    const output = await run(
      {
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: FUNCTION, Payload: { 'token.$': '$$.Task.Token' } },
            TimeoutSecondsPath: '$.wait.seconds',
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Done' }],
            End: true,
          },
          Done: { Type: 'Pass', End: true },
        },
      },
      { wait: { seconds: 90 } },
      { handlers: { worker: async () => null } },
    );

    expect(output).toMatchObject({ error: { Error: 'States.Timeout' } });
    expect(Date.now() - START).toBe(90_000);
  });

  it('keeps a callback Task alive on heartbeats, and times it out without them', async () => {
    let token = '';
    const definition = {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: FUNCTION, Payload: { 'token.$': '$$.Task.Token' } },
          HeartbeatSeconds: 30,
          TimeoutSeconds: 600,
          End: true,
        },
      },
    };
    const beating: LambdaHandler = async (event) => {
      token = (event as { token: string }).token;
      for (const second of [20, 40, 60]) setTimeout(() => tokens.heartbeat(token), second * 1000);
      setTimeout(() => tokens.succeed(token, '"done"'), 80_000);
      return null;
    };

    const kept = await run(definition, {}, { handlers: { worker: beating } });
    const silent = await run(definition, {}, { handlers: { worker: async () => null } });

    expect(kept).toBe('done');
    expect(silent).toBe('States.HeartbeatTimeout');
  });

  it.each([
    [
      'a modelled SQS error',
      'sqs',
      new QueueDoesNotExist({ message: 'no queue', $metadata: {} }),
      'SQS.QueueDoesNotExistException',
    ],
    [
      'an SQS error the SDK does not model',
      'sqs',
      new SQSServiceException({ name: 'Odd', $fault: 'client', $metadata: {} }),
      'SQS.AmazonSQSException',
    ],
    ['no answer from SQS', 'sqs', new Error('socket hang up'), 'SQS.SdkClientException'],
    [
      'a failed DynamoDB condition',
      'dynamodb',
      new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }),
      'DynamoDB.ConditionalCheckFailedException',
    ],
    [
      'a DynamoDB error the SDK does not model',
      'dynamodb',
      new DynamoDBServiceException({ name: 'Odd', $fault: 'server', $metadata: {} }),
      'DynamoDB.AmazonDynamoDBException',
    ],
  ] as const)('names %s as Step Functions does', async (_case, service, error, name) => {
    const resource =
      service === 'sqs'
        ? 'arn:aws:states:::sqs:sendMessage'
        : 'arn:aws:states:::dynamodb:updateItem';
    const failing = {
      send: async () => {
        throw error;
      },
    };

    const output = await run(
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: resource,
            Parameters: { QueueUrl: 'https://sqs.test/000000000000/q', MessageBody: { a: 1 } },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      },
      {},
      { clients: { [service]: failing } },
    );

    expect(output).toMatchObject({ Error: name });
  });

  it("sends an SQS MessageBody object as its JSON text, and answers with SQS's output", async () => {
    const sent: unknown[] = [];
    const sqs = {
      send: async (command: { input: unknown }) => {
        sent.push(command.input);
        return { MessageId: 'm-1', MD5OfMessageBody: 'x', $metadata: { httpStatusCode: 200 } };
      },
    };

    const output = await run(
      {
        StartAt: 'Send',
        States: {
          Send: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage',
            Parameters: {
              QueueUrl: 'https://sqs.test/000000000000/q.fifo',
              MessageGroupId: 'g',
              MessageBody: { 'step.$': '$.step' },
            },
            End: true,
          },
        },
      },
      { step: 'CreateIdentity' },
      { clients: { sqs } },
    );

    expect(sent).toEqual([
      {
        QueueUrl: 'https://sqs.test/000000000000/q.fifo',
        MessageGroupId: 'g',
        MessageBody: '{"step":"CreateIdentity"}',
      },
    ]);
    expect(output).toEqual({ MessageId: 'm-1', MD5OfMessageBody: 'x' });
  });
});
