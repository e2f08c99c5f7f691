import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import {
  CreateEmailIdentityCommand,
  GetEmailIdentityCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingHostedZoneFor } from '#sandbox/emulators/ses.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { deliveredEventsOf, getIdentity, postIdentity, terminalEventOf } from './harness.js';

// The whole sandbox in its default Region (us-east-1): a parent example.com is made and verified
// in eu-west-1 first, as its owner would there, then a request here names it as the origin.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'] });
}, 30_000);

afterAll(async () => {
  if (!stack) return;
  for (const event of stack.emulators.events.events()) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack.stop();
});

/** SES in another Region, as the AWS CLI or an SDK there would reach it (`--region`). */
const sesIn = (region: string) =>
  stack.clock.trackClient(new SESv2Client({ region, endpoint: stack.awsUrl, maxAttempts: 1 }));

/** An SES call, tried again a second after each throttle, as a patient caller would. */
async function patiently<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if ((error as Error).name !== 'TooManyRequestsException' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** The example.com zone's record sets whose name ends with `suffix`. */
async function recordSetsEndingWith(suffix: string) {
  const zone = stack.emulators.zones.get('example.com');
  const output = await stack.clients.route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zone?.id }),
  );
  return (output.ResourceRecordSets ?? []).filter((set) => set.Name?.endsWith(suffix));
}

/** Easy DKIM for `domain` in eu-west-1: created there, its CNAMEs in DNS, verified by SES there. */
async function verifiedParentInEuWest1(domain: string): Promise<string[]> {
  const created = await patiently(() =>
    sesIn('eu-west-1').send(new CreateEmailIdentityCommand({ EmailIdentity: domain })),
  );
  const tokens = created.DkimAttributes?.Tokens ?? [];
  const zoneName = created.DkimAttributes?.SigningHostedZone;
  expect(tokens).toHaveLength(3);
  expect(zoneName).toBe(signingHostedZoneFor('eu-west-1'));
  const zone = stack.emulators.zones.get('example.com');
  await stack.clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone?.id,
      ChangeBatch: {
        Changes: tokens.map((token) => ({
          Action: 'CREATE' as const,
          ResourceRecordSet: {
            Name: `${token}._domainkey.${domain}.`,
            Type: 'CNAME' as const,
            TTL: 300,
            ResourceRecords: [{ Value: `${token}.${zoneName}` }],
          },
        })),
      },
    }),
  );
  // SES there looks a minute after the creation, then every five minutes.
  for (let look = 0; look < 10; look += 1) {
    await stack.clock.advance(60_000);
    const parent = await patiently(() =>
      sesIn('eu-west-1').send(new GetEmailIdentityCommand({ EmailIdentity: domain })),
    );
    if (parent.DkimAttributes?.Status === 'SUCCESS') return tokens;
  }
  throw new Error(`SES in eu-west-1 did not verify ${domain}`);
}

describe('DkimSigningAttributes.DomainSigningAttributesOrigin in the sandbox, end to end', () => {
  it('verifies example.com here as a replica of its verified parent in eu-west-1, publishing no DKIM records', async () => {
    const parentTokens = await verifiedParentInEuWest1('example.com');
    const recordsBefore = await recordSetsEndingWith('_domainkey.example.com.');

    const accepted = await postIdentity(stack, {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
    });
    expect(accepted.status).toBe(202);
    const terminal = await terminalEventOf(stack, 'example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(terminal.detail.dkim).toMatchObject({
      origin: 'AWS_SES',
      tokens: [],
      parent_region: 'eu-west-1',
      status: 'SUCCESS',
    });
    expect(terminal.detail.readiness).toMatchObject({
      dkim: { status: 'READY', ses_status: 'SUCCESS', records: [] },
    });
    const published = (await deliveredEventsOf(stack, 'example.com')).find(
      (event) => event['detail-type'] === 'DNS Records Published',
    );
    expect(published?.detail).toMatchObject({ records: [], zone_file: [] });
    // DNS holds the parent's three CNAMEs and nothing more: the replica added none.
    expect(await recordSetsEndingWith('_domainkey.example.com.')).toEqual(recordsBefore);
    // SES here holds a replica of eu-west-1's identity, with the parent's tokens.
    const replica = await patiently(() =>
      stack.clients.sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' })),
    );
    expect(replica.DkimAttributes).toMatchObject({
      SigningAttributesOrigin: 'AWS_SES_EU_WEST_1',
      Status: 'SUCCESS',
      Tokens: parentTokens,
    });
    expect(replica.VerifiedForSendingStatus).toBe(true);
    const status = await getIdentity(stack, 'example.com');
    expect(status.body.data).toMatchObject({ status: 'VERIFIED' });
  }, 60_000);

  it('fails, retryable, naming the Region, when eu-west-1 has no parent identity', async () => {
    const accepted = await postIdentity(stack, {
      EmailIdentity: 'orphan.example.com',
      DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
    });
    expect(accepted.status).toBe(202);
    const terminal = await terminalEventOf(stack, 'orphan.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verification Failed');
    expect(terminal.detail.reason).toMatchObject({
      code: 'SES_ERROR',
      retryable: true,
      message: expect.stringContaining(
        'The parent identity orphan.example.com does not exist in eu-west-1',
      ),
    });
  }, 60_000);

  it('refuses the stack’s own Region as the origin, naming the field', async () => {
    const response = await postIdentity(stack, {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_US_EAST_1' },
    });

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [
        {
          field: 'DkimSigningAttributes.DomainSigningAttributesOrigin',
          message: expect.stringContaining("this stack's own Region (us-east-1)"),
        },
      ],
    });
  });
});
