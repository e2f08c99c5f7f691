import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { postIdentity, terminalEventOf } from './harness.js';

// SES as it is: one request per second per identity action, account-wide, on by default. Many
// identities at once meet TooManyRequestsException; that is the truth the workflow must live
// with (it may fail runs with SES_ERROR), not something the sandbox hides.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'] });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the sandbox at SES's default rate", () => {
  it('throttles identities created at once, and every run still ends with one terminal event', async () => {
    const identities = Array.from({ length: 10 }, (_, i) => `rate-${i}.example.com`);

    const started = await Promise.all(
      identities.map((identity) => postIdentity(stack, { EmailIdentity: identity })),
    );
    const terminals = await Promise.all(
      identities.map((identity) => terminalEventOf(stack, identity)),
    );

    expect(started.map((response) => response.status)).toEqual(identities.map(() => 202));
    expect(stack.metrics.snapshot()['sesv2:CreateEmailIdentity']?.throttled).toBeGreaterThan(0);
    for (const event of terminals) {
      if (event['detail-type'] === 'Email Identity Verification Failed') {
        expect(event.detail.reason).toMatchObject({ code: 'SES_ERROR' });
      } else {
        expect(event['detail-type']).toBe('Email Identity Verified');
      }
    }
    const perRun = stack.emulators.events
      .events()
      .filter((event) => event['detail-type'].startsWith('Email Identity'))
      .map((event) => event.detail.identity);
    expect(perRun.sort()).toEqual([...identities].sort());
  }, 60_000);
});
