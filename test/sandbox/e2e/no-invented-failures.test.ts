import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';

// Failures AWS would not produce: the sandbox must never let virtual time pass while a Task's
// work is in flight, or the engine's time-outs fire during real work.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ apiPort: false });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('runs in the sandbox fail only as they would in AWS', () => {
  it('ends an invalid request with VALIDATION_ERROR every time, never a time-out', async () => {
    const outcomes: string[] = [];
    // Started straight on the engine, as StartExecution from the AWS CLI does: nothing in this
    // process has warmed the SDK clients' configuration first.
    for (let run = 0; run < 8; run += 1) {
      const execution = stack.stateMachine.start(
        JSON.stringify({ EmailIdentity: 'bad..domain' }),
        `invalid-${run}`,
      );
      const done = await execution.done;
      const failure = stack.emulators.events
        .events()
        .find(
          (event) =>
            event['detail-type'] === 'Email Identity Verification Failed' &&
            event.resources.includes(done.executionArn),
        );
      const reason = failure?.detail.reason as { code?: string } | undefined;
      outcomes.push(`${done.status} ${done.error} ${reason?.code}`);
    }

    expect(outcomes).toEqual(
      Array.from({ length: 8 }, () => 'FAILED VALIDATION_ERROR VALIDATION_ERROR'),
    );
  });
});
