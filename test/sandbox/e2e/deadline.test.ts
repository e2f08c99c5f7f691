import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { deliveredEventsOf, postIdentity, terminalEventOf } from './harness.js';

// A domain under no sandbox zone: nobody adds its records, so nothing can wake its run, which
// looks on its own at 24 and 48 hours and at its deadline. The sweeper is off here: with nothing
// to find it would only run 4,320 times in those 72 virtual hours (about half a minute of wall
// time), which `npm start -- example.org` shows; the state machine tests cover a sweeper that
// finds nothing.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], schedules: false });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a run nobody wakes', () => {
  it('times out a domain under no sandbox zone after 72 virtual hours with TIMED_OUT', async () => {
    const started = await postIdentity(stack, { EmailIdentity: 'nobody.example.org' });
    expect(started.status).toBe(202);

    const terminal = await terminalEventOf(stack, 'nobody.example.org');

    expect(terminal['detail-type']).toBe('Email Identity Verification Failed');
    expect(terminal.detail.reason).toMatchObject({ code: 'TIMED_OUT', retryable: true });
    // A domain no sandbox zone holds answers as on the internet: its records are missing,
    // not "could not be looked up".
    const reason = terminal.detail.reason as { message: string };
    expect(reason.message).toContain('Missing: CNAME');
    expect(reason.message).not.toMatch(/could not be looked up|EREFUSED/);
    const required = (await deliveredEventsOf(stack, 'nobody.example.org')).map(
      (event) => event['detail-type'],
    );
    expect(required).toEqual(['DNS Records Required', 'Email Identity Verification Failed']);
    const execution = stack.stateMachine.describe(started.body.data.execution_arn);
    const stopDate = (await execution.done).stopDate ?? execution.startDate;
    const elapsedHours = (stopDate.getTime() - execution.startDate.getTime()) / 3_600_000;
    expect(elapsedHours).toBeGreaterThanOrEqual(72);
    // SES was asked once, at the deadline: the first look trusts CreateEmailIdentity's PENDING
    // and the looks at 24 and 48 hours found the records missing in DNS.
    expect(stack.metrics.snapshot()['sesv2:GetEmailIdentity']?.ok).toBe(1);
    expect(stack.metrics.snapshot()['sesv2:CreateEmailIdentity']?.ok).toBe(1);
  });
});
