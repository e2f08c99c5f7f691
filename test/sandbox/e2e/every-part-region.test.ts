import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import {
  GetEmailIdentityCommand,
  ListTenantResourcesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingHostedZoneFor } from '#sandbox/emulators/ses.js';
import { regionFromEnv } from '#sandbox/env.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getIdentity, postIdentity, terminalEventOf } from './harness.js';

// A Region whose Easy DKIM zone is its own (dkim.eu-south-1.amazonses.com), as SANDBOX_REGION
// selects it; a file of its own: the handlers read their Region once, at import, as in Lambda.
const region = regionFromEnv({ SANDBOX_REGION: 'eu-south-1' });
// Among the stack's ReplicaRegions there (every DEED Region but its own), with another DKIM zone.
const replicaRegion = 'eu-west-1';
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], region });
}, 30_000);
afterAll(async () => {
  if (!stack) return;
  for (const event of stack.emulators.events.events()) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack.stop();
});

/** GetEmailIdentity in `region`, waiting a second after each throttle, as a patient caller. */
async function readIn(sesRegion: string, identity: string) {
  const ses = stack.clock.trackClient(
    new SESv2Client({ region: sesRegion, endpoint: stack.awsUrl, maxAttempts: 1 }),
  );
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    } catch (error) {
      if ((error as Error).name !== 'TooManyRequestsException' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

type Part = { status: string; records?: { type: string; name: string; value: string }[] };

describe(`a request with every part in ${region}`, () => {
  it('verifies DKIM, MAIL FROM, DMARC, the tenant and a replica, each READY in the Verified event', async () => {
    expect(signingHostedZoneFor(region)).not.toBe(signingHostedZoneFor(replicaRegion));
    const started = await postIdentity(stack, {
      EmailIdentity: 'all.example.com',
      MailFrom: { Domain: 'bounce.all.example.com', BehaviorOnMxFailure: 'REJECT_MESSAGE' },
      Dmarc: { Policy: 'reject', Rua: 'mailto:dmarc@example.com' },
      Tenant: { Name: 'acme' },
      Replicas: [replicaRegion],
    });
    expect(started.status).toBe(202);

    const terminal = await terminalEventOf(stack, 'all.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    const readiness = terminal.detail.readiness as Record<string, Part>;
    expect(
      Object.fromEntries(Object.entries(readiness).map(([name, part]) => [name, part.status])),
    ).toEqual({
      dkim: 'READY',
      mail_from: 'READY',
      dmarc: 'READY',
      tenant: 'READY',
      replicas: 'READY',
    });
    expect(readiness.replicas).toMatchObject({
      regions: [{ region: replicaRegion, status: 'READY' }],
    });
    // The CNAMEs point into this Region's zone, and DNS holds them and the other parts' records.
    const dkimRecords = readiness.dkim?.records ?? [];
    expect(dkimRecords).toHaveLength(3);
    for (const record of dkimRecords) {
      expect(record.value.endsWith(`.${signingHostedZoneFor(region)}`)).toBe(true);
    }
    const zone = stack.emulators.zones.get('example.com');
    const sets = await stack.clients.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zone?.id }),
    );
    const named = (name: string, type: string) =>
      (sets.ResourceRecordSets ?? []).find((set) => set.Name === `${name}.` && set.Type === type);
    expect(named('bounce.all.example.com', 'MX')?.ResourceRecords).toEqual([
      { Value: `10 feedback-smtp.${region}.amazonses.com.` },
    ]);
    expect(named('_dmarc.all.example.com', 'TXT')?.ResourceRecords).toEqual([
      { Value: '"v=DMARC1; p=reject; rua=mailto:dmarc@example.com"' },
    ]);
    const tenant = await stack.clients.sesv2.send(
      new ListTenantResourcesCommand({ TenantName: 'acme' }),
    );
    expect(tenant.TenantResources?.map((resource) => resource.ResourceArn)).toEqual([
      `arn:aws:ses:${region}:000000000000:identity/all.example.com`,
    ]);
    // The replica in eu-west-1 replicates this Region's identity, with its tokens.
    const parent = await stack.clients.sesv2.send(
      new GetEmailIdentityCommand({ EmailIdentity: 'all.example.com' }),
    );
    const replica = await readIn(replicaRegion, 'all.example.com');
    expect(replica.DkimAttributes).toMatchObject({
      SigningAttributesOrigin: 'AWS_SES_EU_SOUTH_1',
      Status: 'SUCCESS',
      Tokens: parent.DkimAttributes?.Tokens,
    });

    const status = await getIdentity(stack, 'all.example.com');
    expect(status.body.data).toMatchObject({
      status: 'VERIFIED',
      readiness: terminal.detail.readiness,
    });
  }, 60_000);
});
