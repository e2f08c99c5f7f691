import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { deliveredEventsOf, getIdentity, postIdentity, terminalEventOf } from './harness.js';

// The whole sandbox, SES at its documented rate in every Region (one request per second per
// action, per Region): a replica's calls are paced by its own Region's budget, and this
// test's own reads wait and try again when SES throttles them.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'] });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

/** SES in another Region, as the AWS CLI or an SDK there would reach it (`--region`). */
const sesIn = (region: string) =>
  stack.clock.trackClient(new SESv2Client({ region, endpoint: stack.awsUrl, maxAttempts: 1 }));

/** GetEmailIdentity in `region`, waiting a second after each throttle, as a patient caller. */
async function readIn(region: string, identity: string) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await sesIn(region).send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    } catch (error) {
      if ((error as Error).name !== 'TooManyRequestsException' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

describe('DEED replicas in the sandbox, end to end', () => {
  it('verifies example.com with replicas in eu-west-1 and ap-southeast-2, each READY in the Verified event', async () => {
    const accepted = await postIdentity(stack, {
      EmailIdentity: 'example.com',
      Replicas: ['eu-west-1', 'ap-southeast-2'],
    });
    expect(accepted.status).toBe(202);

    const terminal = await terminalEventOf(stack, 'example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    // One readiness: DKIM's part, and the replicas as one more part beside it.
    expect(terminal.detail.readiness).toEqual({
      dkim: expect.objectContaining({ status: 'READY', ses_status: 'SUCCESS' }),
      replicas: {
        status: 'READY',
        regions: [
          { region: 'eu-west-1', status: 'READY', detail: expect.stringContaining('eu-west-1') },
          {
            region: 'ap-southeast-2',
            status: 'READY',
            detail: expect.stringContaining('ap-southeast-2'),
          },
        ],
      },
    });
    const events = await deliveredEventsOf(stack, 'example.com');
    const published = events.find((event) => event['detail-type'] === 'DNS Records Published');
    expect(published?.detail.readiness).toMatchObject({ replicas: { status: 'PENDING' } });
    for (const event of events) expectValidDetail(event['detail-type'], event.detail);
    // GET says the same, from the registry.
    const status = await getIdentity(stack, 'example.com');
    expect(status.body.data).toMatchObject({
      status: 'VERIFIED',
      readiness: terminal.detail.readiness,
    });

    // SES in each replica Region holds the identity as a replica of us-east-1's, with the
    // parent's tokens: the records published once, in us-east-1, verify it there too.
    const parent = await readIn('us-east-1', 'example.com');
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      const replica = await readIn(region, 'example.com');
      expect(replica.DkimAttributes).toMatchObject({
        SigningAttributesOrigin: 'AWS_SES_US_EAST_1',
        Status: 'SUCCESS',
        Tokens: parent.DkimAttributes?.Tokens,
      });
      expect(replica.VerifiedForSendingStatus).toBe(true);
    }
    // A Region nobody asked for has no such identity: each Region's SES keeps its own.
    await expect(readIn('eu-central-1', 'example.com')).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  }, 60_000);

  it('refuses a request whose Replicas break a rule, naming the field and the rule', async () => {
    const response = await postIdentity(stack, {
      EmailIdentity: 'ops@example.com',
      Replicas: ['us-east-1', 'eu-west-9'],
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: expect.arrayContaining([
        { field: 'Replicas[0]', message: expect.stringContaining("this stack's own Region") },
        { field: 'Replicas[1]', message: expect.stringContaining('not an SES Region') },
        { field: 'Replicas', message: expect.stringContaining('only to a domain identity') },
      ]),
    });
  });
});
