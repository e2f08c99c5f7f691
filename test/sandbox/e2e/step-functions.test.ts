import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidOutput,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';

// The emulated Step Functions API, through the SDK, as the API handlers and operators use it.
let stack: SandboxStack;

beforeAll(async () => {
  // About the Step Functions API, not SES's rate (ses-rate.test.ts is): the rate limit is off.
  stack = await startStack({ apiPort: false, sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

/**
 * The task token of an execution's AwaitVerification once it sleeps on it, as the registry
 * holds it for the sweeper; time stands still from then until the caller releases its own hold.
 */
function waitingToken(executionArn: string): Promise<string> {
  return new Promise((resolve) => {
    const unsubscribe = stack.stateMachine.subscribe((execution, event) => {
      if (execution.executionArn !== executionArn || event.type !== 'TaskSubmitted') return;
      const details = event.taskSubmittedEventDetails as { resource?: string };
      if (details.resource !== 'invoke.waitForTaskToken') return;
      unsubscribe();
      const parameters = execution.history.findLast((e) => e.type === 'TaskScheduled')
        ?.taskScheduledEventDetails as { parameters: string };
      resolve(
        (JSON.parse(parameters.parameters) as { Payload: { task_token: string } }).Payload
          .task_token,
      );
    });
  });
}

const start = (name: string, identity: string) =>
  stack.clients.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: stack.stateMachine.arn,
      name,
      input: JSON.stringify({ EmailIdentity: identity }),
    }),
  );

describe('the sandbox Step Functions API', () => {
  it('lists the state machine the sandbox runs', async () => {
    const output = await stack.clients.sfn.send(new ListStateMachinesCommand({}));

    expect(output.stateMachines?.map((machine) => machine.name)).toEqual(['VerifyEmailIdentity']);
  });

  it('returns the running execution for the same name and input, ExecutionAlreadyExists otherwise', async () => {
    // Time held: the first run cannot finish between the calls.
    const release = stack.clock.hold();
    const first = await start('same-name', 'same.example.com');
    const again = await start('same-name', 'same.example.com');
    const conflict = start('same-name', 'other.example.com');
    await expect(conflict).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    release();
    await stack.stateMachine.describe(first.executionArn ?? '').done;

    expect(again.executionArn).toBe(first.executionArn);
    await expect(start('same-name', 'same.example.com')).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
  });

  it('describes a finished run and tells a missing one with ExecutionDoesNotExist', async () => {
    const { executionArn } = await start('described', 'described.example.com');
    await stack.stateMachine.describe(executionArn ?? '').done;

    const described = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));

    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'described' });
    expect(JSON.parse(described.output ?? '{}')).toHaveProperty('check.outcome', 'VERIFIED');
    expect(described.stopDate?.getTime()).toBeGreaterThan(described.startDate?.getTime() ?? 0);
    await expect(
      stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}-x` })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it("keeps a closed execution's whole history as it was recorded", async () => {
    const recorded: unknown[] = [];
    const { executionArn } = await start('kept', 'kept.example.com');
    const stop = stack.stateMachine.subscribe((execution, event) => {
      if (execution.executionArn === executionArn) recorded.push(structuredClone(event));
    });
    const execution = stack.stateMachine.describe(executionArn ?? '');
    const before = execution.history.map((event) => structuredClone(event));
    await execution.done;
    stop();

    const after = stack.stateMachine.describe(executionArn ?? '').history;

    expect(after.length).toBeGreaterThan(10);
    expect(after.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(after).toEqual(
      JSON.parse(JSON.stringify([...before, ...recorded]), (key, value) =>
        key === 'timestamp' ? new Date(value) : value,
      ),
    );
    expect(after.every((event) => event.timestamp instanceof Date)).toBe(true);
  });

  it('reads a history in order and in reverse, page by page', async () => {
    const { executionArn } = await start('history', 'history.example.com');
    await stack.stateMachine.describe(executionArn ?? '').done;

    const forward = await stack.clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 5 }),
    );
    const backward = await stack.clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
    );
    const rest = await stack.clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken: forward.nextToken }),
    );

    expect(forward.events?.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      expect.stringMatching(/StateEntered$/),
      expect.any(String),
    ]);
    expect(forward.nextToken).toBeDefined();
    expect(rest.events?.[0]?.id).toBe(6);
    expect(backward.events?.map((event) => event.type)).toEqual(['ExecutionSucceeded']);
    // CreateIdentity waits in line for the SES worker: scheduled, submitted, then answered.
    const events = rest.events ?? [];
    const created = events.findIndex(
      (event) => event.stateEnteredEventDetails?.name === 'CreateIdentity',
    );
    expect(events.slice(created + 1, created + 5).map((event) => event.type)).toEqual([
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
    ]);
    expect(events[created + 1]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'sqs',
      resource: 'sendMessage.waitForTaskToken',
      timeoutInSeconds: 86400,
    });
  });

  it('answers task tokens as Step Functions does: once, and never an unknown or ended one', async () => {
    // A domain no zone holds waits for a person: its AwaitVerification sleeps on its token.
    const { executionArn } = await start('waiting', 'waiting.example.org');
    const token = await waitingToken(executionArn ?? '');
    const release = stack.clock.hold();
    const send = (command: object) => stack.clients.sfn.send(command as never);

    await send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Operator.Gave.Up', cause: 'test' }),
    );
    const again = send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    const unknown = send(
      new SendTaskSuccessCommand({ taskToken: `AQ${'A'.repeat(128)}`, output: '{}' }),
    );
    const garbage = send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }));
    release();

    await expect(again).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(unknown).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(garbage).rejects.toBeInstanceOf(InvalidToken);
    // The failure went down the state machine's Catch: the run failed with its failure event.
    const done = await stack.stateMachine.describe(executionArn ?? '').done;
    expect(done.status).toBe('FAILED');
    const failed = done.history.find(
      (event) => event.type === 'TaskFailed' && event.taskFailedEventDetails,
    );
    expect(failed?.taskFailedEventDetails).toMatchObject({
      error: 'Operator.Gave.Up',
      cause: 'test',
    });
  });

  it('refuses an answer that is not JSON with InvalidOutput, and keeps the task open', async () => {
    const { executionArn } = await start('invalid-output', 'invalid-output.example.org');
    const token = await waitingToken(executionArn ?? '');

    await expect(
      stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{not' })),
    ).rejects.toBeInstanceOf(InvalidOutput);
    await stack.clients.sfn.send(new StopExecutionCommand({ executionArn }));
    await stack.stateMachine.describe(executionArn ?? '').done;
    await expect(
      stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('stops a running execution as ABORTED and lists it by status', async () => {
    const release = stack.clock.hold();
    const { executionArn } = await start('stopped', 'stopped.example.org');
    await stack.clients.sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator.Stop', cause: 'test' }),
    );
    release();
    await stack.stateMachine.describe(executionArn ?? '').done;

    const described = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const aborted = await stack.clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: stack.stateMachine.arn,
        statusFilter: 'ABORTED',
      }),
    );

    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'test' });
    expect(aborted.executions?.map((execution) => execution.name)).toEqual([
      'stopped',
      'invalid-output',
    ]);
  });

  it('pages ListExecutions newest first with maxResults and nextToken', async () => {
    const all = await stack.clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachine.arn }),
    );
    const first = await stack.clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachine.arn, maxResults: 2 }),
    );
    const second = await stack.clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: stack.stateMachine.arn,
        maxResults: 2,
        nextToken: first.nextToken,
      }),
    );

    const names = all.executions?.map((execution) => execution.name) ?? [];
    expect(names[0]).toBe('stopped');
    expect([...(first.executions ?? []), ...(second.executions ?? [])].map((e) => e.name)).toEqual(
      names.slice(0, 4),
    );
  });
});
