import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsRequest } from '#sandbox/aws/service.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { postIdentity, terminalEventOf } from './harness.js';

// Half of all SES requests are answered with TooManyRequestsException: the SDK's retries, the
// state machine's Retry and CheckVerification's skipped looks must still finish every run.
let stack: SandboxStack;
let throttled = 0;

beforeAll(async () => {
  // Random throttling only: the rate limit is off so that every 429 here is the seeded one.
  stack = await startStack({ sesFaults: { throttleRate: 0.5, seed: 7, rateLimit: 0 } });
  const ses = stack.emulators.ses;
  const handle = ses.handle.bind(ses);
  ses.handle = async (request: AwsRequest) => {
    const response = await handle(request);
    if (response.status === 429) throttled += 1;
    return response;
  };
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the sandbox with a throttled SES', () => {
  it('still completes every run, each with one terminal event', async () => {
    const identities = Array.from({ length: 10 }, (_, i) => `throttled-${i}.example.com`);

    const started = await Promise.all(
      identities.map((identity) => postIdentity(stack, { EmailIdentity: identity })),
    );
    const terminals = await Promise.all(
      identities.map((identity) => terminalEventOf(stack, identity)),
    );

    expect(started.map((response) => response.status)).toEqual(identities.map(() => 202));
    expect(throttled).toBeGreaterThan(0);
    expect(terminals.map((event) => event['detail-type'])).toEqual(
      identities.map(() => 'Email Identity Verified'),
    );
    const delivered = stack.emulators.events
      .events()
      .filter((event) => event['detail-type'].startsWith('Email Identity'));
    expect(delivered).toHaveLength(identities.length);
    // Steps whose SES calls stayed throttled through the SDK's attempts went back to the queue.
    expect(stack.eventSourceMappings.get('ses-worker')?.stats.returned).toBeGreaterThan(0);
  }, 60_000);
});
