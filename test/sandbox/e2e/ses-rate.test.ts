import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsRequest } from '#sandbox/aws/service.js';
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

  it("looks at a run's identity without waiting behind the other runs' creations", async () => {
    // When SES served each CreateEmailIdentity, and when the worker took each run's first look
    // off the queue (virtual time).
    const created: number[] = [];
    const looks = new Map<string, number>();
    const ses = stack.emulators.ses;
    const handle = ses.handle.bind(ses);
    ses.handle = async (request: AwsRequest) => {
      const response = await handle(request);
      if (request.method === 'POST' && request.path === '/v2/email/identities') {
        created.push(stack.clock.nowMs());
      }
      return response;
    };
    const sqs = stack.emulators.sqs;
    const receiveBatch = sqs.receiveBatch.bind(sqs);
    sqs.receiveBatch = (url, max, visibility) => {
      const batch = receiveBatch(url, max, visibility);
      for (const message of batch) {
        const body = JSON.parse(message.body) as {
          step?: string;
          input?: { identity?: { identity?: string } };
        };
        const identity = body.input?.identity?.identity;
        if (body.step === 'CheckVerification' && identity && !looks.has(identity)) {
          looks.set(identity, stack.clock.nowMs());
        }
      }
      return batch;
    };
    const identities = Array.from({ length: 12 }, (_, i) => `lane-${i}.example.com`);

    try {
      await Promise.all(
        identities.map((identity) => postIdentity(stack, { EmailIdentity: identity })),
      );
      const terminals = await Promise.all(
        identities.map((identity) => terminalEventOf(stack, identity)),
      );
      expect(terminals.map((event) => event['detail-type'])).toEqual(
        identities.map(() => 'Email Identity Verified'),
      );
    } finally {
      ses.handle = handle;
      sqs.receiveBatch = receiveBatch;
    }

    // Twelve creations take twelve seconds at SES's rate. The first run's look went on
    // meanwhile, in its own lane, seconds after its creation; in one message group for both it
    // would wait at least for the worker's first batch of ten creations to be done.
    expect(created).toHaveLength(12);
    const tenthCreated = [...created].sort((a, b) => a - b)[9] as number;
    expect(Math.min(...looks.values())).toBeLessThan(tenthCreated);
  }, 60_000);
});
