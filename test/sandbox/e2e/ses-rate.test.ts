import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { postIdentity, terminalEventOf } from './harness.js';

// SES as it is: one request per second per identity action, account-wide, on by default. The
// workflow queues its SES calls for one worker that keeps to that rate, so identities created at
// once all verify and SES never has to refuse a call; a burst would meet TooManyRequestsException.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'] });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the sandbox at SES's default rate", () => {
  it('verifies identities created at once, without SES refusing a single call', async () => {
    const identities = Array.from({ length: 10 }, (_, i) => `rate-${i}.example.com`);

    const started = await Promise.all(
      identities.map((identity) => postIdentity(stack, { EmailIdentity: identity })),
    );
    const terminals = await Promise.all(
      identities.map((identity) => terminalEventOf(stack, identity)),
    );

    expect(started.map((response) => response.status)).toEqual(identities.map(() => 202));
    expect(terminals.map((event) => event['detail-type'])).toEqual(
      identities.map(() => 'Email Identity Verified'),
    );
    const calls = stack.metrics.snapshot();
    expect(calls['sesv2:CreateEmailIdentity']).toEqual({ ok: 10, throttled: 0, failed: 0 });
    for (const [operation, counts] of Object.entries(calls)) {
      if (operation.startsWith('sesv2:')) expect(counts.throttled, operation).toBe(0);
    }
    const perRun = stack.emulators.events
      .events()
      .filter((event) => event['detail-type'].startsWith('Email Identity'))
      .map((event) => event.detail.identity);
    expect(perRun.sort()).toEqual([...identities].sort());
  }, 60_000);
});
