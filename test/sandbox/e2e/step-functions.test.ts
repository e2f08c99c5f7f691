import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  StopExecutionCommand,
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
    const scheduled = rest.events?.find((event) => event.type === 'TaskScheduled');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
    });
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
    expect(aborted.executions?.map((execution) => execution.name)).toEqual(['stopped']);
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
