import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  stateStatuses,
  summarizeExecution,
  viewExecution,
} from '#sandbox/console/execution-view.js';
import type { Execution, ExecutionStatus, HistoryEvent } from '#sandbox/engine/executions.js';
import { holdsKey } from '#test/support/key-material.js';

const START = Date.parse('2026-11-23T10:00:00.000Z');

/** An execution whose history is `events`: [type, seconds after the start, details]. */
function execution(
  events: [string, number, Record<string, unknown>?][],
  status: ExecutionStatus = 'RUNNING',
  input: unknown = { EmailIdentity: 'example.com' },
): Execution {
  const history: HistoryEvent[] = events.map(([type, seconds, details], index) => ({
    id: index + 1,
    previousEventId: index,
    timestamp: new Date(START + seconds * 1000),
    type,
    ...details,
  }));
  return {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:VerifyEmailIdentity:run-1',
    name: 'run-1',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:VerifyEmailIdentity',
    status,
    startDate: new Date(START),
    stopDate: status === 'RUNNING' ? undefined : new Date(START + (events.at(-1)?.[1] ?? 0) * 1000),
    input: JSON.stringify(input),
    output: undefined,
    error: status === 'FAILED' ? 'DNS_PUBLISH_FAILED' : undefined,
    cause: undefined,
    history,
    done: new Promise(() => {}),
  };
}

const entered = (type: string, name: string, seconds: number, input: unknown = {}) =>
  [
    `${type}StateEntered`,
    seconds,
    { stateEnteredEventDetails: { name, input: JSON.stringify(input) } },
  ] as [string, number, Record<string, unknown>];
const exited = (type: string, name: string, seconds: number, output: unknown = {}) =>
  [
    `${type}StateExited`,
    seconds,
    { stateExitedEventDetails: { name, output: JSON.stringify(output) } },
  ] as [string, number, Record<string, unknown>];

describe('how the console reads an execution history', () => {
  it('marks the state a running execution is in as running, those it left as succeeded', () => {
    const run = execution([
      ['ExecutionStarted', 0, { executionStartedEventDetails: { input: '{}' } }],
      entered('Task', 'CreateIdentity', 0),
      ['TaskScheduled', 0],
      ['TaskSucceeded', 1, { taskSucceededEventDetails: { output: '{}' } }],
      exited('Task', 'CreateIdentity', 1),
      entered('Task', 'AwaitVerification', 1),
      ['TaskScheduled', 1],
      ['TaskSubmitted', 1],
    ]);
    expect(stateStatuses(run)).toEqual({
      states: {
        CreateIdentity: { status: 'succeeded', entered: 1 },
        AwaitVerification: { status: 'running', entered: 1 },
      },
      transitions: [{ from: 'CreateIdentity', to: 'AwaitVerification' }],
    });
    expect(summarizeExecution(run, new Date(START + 3600_000))).toMatchObject({
      name: 'run-1',
      identity: 'example.com',
      operation: 'CreateIdentity',
      status: 'RUNNING',
      current_state: 'AwaitVerification',
      // Still running: the time elapsed runs to the virtual now.
      elapsed_seconds: 3600,
      stop_date: null,
    });
  });

  it('marks a state whose error a Catch took as caught, and the Fail state as failed', () => {
    const run = execution(
      [
        entered('Task', 'PublishDnsRecords', 0),
        ['TaskScheduled', 0],
        [
          'TaskFailed',
          2,
          { taskFailedEventDetails: { error: 'DnsPublishError', cause: 'no zone' } },
        ],
        // As the engine records a caught error: the state exits, then the handler is entered.
        exited('Task', 'PublishDnsRecords', 2),
        entered('Task', 'DescribeFailure', 2),
        exited('Task', 'DescribeFailure', 2),
        entered('Fail', 'VerificationFailed', 3),
        ['ExecutionFailed', 3, { executionFailedEventDetails: { error: 'DNS_PUBLISH_FAILED' } }],
      ],
      'FAILED',
    );
    expect(stateStatuses(run).states).toEqual({
      PublishDnsRecords: { status: 'caught', entered: 1 },
      DescribeFailure: { status: 'succeeded', entered: 1 },
      VerificationFailed: { status: 'failed', entered: 1 },
    });
    expect(summarizeExecution(run, new Date(START + 99_000))).toMatchObject({
      status: 'FAILED',
      error: 'DNS_PUBLISH_FAILED',
      current_state: 'VerificationFailed',
      elapsed_seconds: 3,
    });
  });

  it('counts a retried Task as one state at work, and a loop as states entered twice', () => {
    const run = execution([
      entered('Task', 'CheckVerification', 0),
      ['TaskScheduled', 0],
      ['TaskFailed', 0, { taskFailedEventDetails: { error: 'ThrottlingError' } }],
      ['TaskScheduled', 2],
      ['TaskSucceeded', 2],
      exited('Task', 'CheckVerification', 2),
      entered('Task', 'AwaitVerification', 2),
      ['TaskScheduled', 2],
      ['TaskTimedOut', 86_402, { taskTimedOutEventDetails: { error: 'States.Timeout' } }],
      entered('Task', 'CheckVerification', 86_402),
    ]);
    const { states, transitions } = stateStatuses(run);
    expect(states).toEqual({
      CheckVerification: { status: 'running', entered: 2 },
      // Its time-out went to CheckVerification through its Catch: a caught error.
      AwaitVerification: { status: 'caught', entered: 1 },
    });
    expect(transitions).toEqual([
      { from: 'CheckVerification', to: 'AwaitVerification' },
      { from: 'AwaitVerification', to: 'CheckVerification' },
    ]);
  });

  it('a state the run was in when it failed without a Fail state is the failed one', () => {
    const run = execution(
      [entered('Task', 'ClaimIdentity', 0), ['TaskScheduled', 0], ['ExecutionFailed', 1]],
      'FAILED',
    );
    expect(stateStatuses(run).states).toEqual({ ClaimIdentity: { status: 'failed', entered: 1 } });
  });

  it('names the DKIM change runs, which start at ReadDkimSigning', () => {
    const run = execution([], 'RUNNING', {
      EmailIdentity: 'example.com',
      SigningAttributesOrigin: 'AWS_SES',
    });
    expect(summarizeExecution(run, new Date(START)).operation).toBe('ChangeDkimSigning');
  });

  it('gives every event its state, virtual time, and parsed input and output, with no private key in any', () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs1', format: 'der' })
      .toString('base64');
    // A run started by hand with a key in its input: the API never does that, the console
    // must hide it anyway.
    const input = {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
    };
    const run = execution(
      [
        ['ExecutionStarted', 0, { executionStartedEventDetails: { input: JSON.stringify(input) } }],
        entered('Task', 'ClaimIdentity', 0, input),
        [
          'TaskScheduled',
          0,
          { taskScheduledEventDetails: { parameters: JSON.stringify({ Payload: input }) } },
        ],
        [
          'TaskFailed',
          1,
          { taskFailedEventDetails: { error: 'ValidationError', cause: `bad key ${key}` } },
        ],
        [
          'ExecutionFailed',
          1,
          {
            executionFailedEventDetails: {
              error: 'VALIDATION_ERROR',
              cause: JSON.stringify({ key }),
            },
          },
        ],
      ],
      'FAILED',
      input,
    );
    run.cause = `the key ${key}`;
    const view = viewExecution(run, new Date(START));
    expect(holdsKey(JSON.stringify(view), key)).toBe(false);
    expect(
      view.events.map((event) => [event.id, event.type, event.state, event.elapsed_seconds]),
    ).toEqual([
      [1, 'ExecutionStarted', null, 0],
      [2, 'TaskStateEntered', 'ClaimIdentity', 0],
      [3, 'TaskScheduled', 'ClaimIdentity', 0],
      [4, 'TaskFailed', 'ClaimIdentity', 1],
      [5, 'ExecutionFailed', null, 1],
    ]);
    expect(view.events[1]?.input).toEqual({
      EmailIdentity: 'example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKey: '[private key hidden]',
      },
    });
    expect(view.events[3]).toMatchObject({
      error: 'ValidationError',
      cause: 'bad key [private key hidden]',
    });
  });
});
