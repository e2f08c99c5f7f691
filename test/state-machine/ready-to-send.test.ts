import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  BadRequestException,
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  GetEmailIdentityCommand,
  GetTenantCommand,
  ListEmailIdentitiesCommand,
  NotFoundException,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

// "Ready to send" on the real definition: MAIL FROM, DMARC and a tenant beside DKIM, with the
// worker, the registry and the sweeper of the template; SES and Route 53 are mocked, DNS is real.

const START = new Date('2026-11-02T09:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];
const TENANT_ARN = 'arn:aws:ses:us-east-1:000000000000:tenant/acme/tn-0123456789abcdef0';
const IDENTITY_ARN = 'arn:aws:ses:us-east-1:000000000000:identity/example.com';
const REQUEST = {
  EmailIdentity: 'example.com',
  MailFrom: { Domain: 'bounce.example.com' },
  Dmarc: { Policy: 'quarantine', Rua: 'mailto:dmarc@example.com' },
  Tenant: { Name: 'acme' },
};

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

describe('VerifyEmailIdentity state machine: ready to send', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let harness: StateMachineHarness;
  let emitted: Emitted[];
  /** The record sets Route 53 holds, by `name type`. */
  let recordSets: Map<string, ResourceRecordSet>;

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    process.env.DNS_RESOLVERS = `127.0.0.1:${dns.port}`;
    process.env.DNS_QUERY_AUTHORITATIVE = 'false';
    process.env.DNS_QUERY_TIMEOUT_MS = '500';
    harness = await StateMachineHarness.start();
  });
  afterAll(async () => {
    await harness.close();
    await dns.close();
  });

  beforeEach(async () => {
    ses.reset();
    route53.reset();
    eventBridge.reset();
    for (const name of Object.keys(zone)) delete zone[name];
    emitted = [];
    recordSets = new Map();
    await harness.begin(START);
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      for (const entry of input.Entries ?? []) {
        emitted.push({
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}'),
        });
      }
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: 'e' })) };
    });
    ses.on(CreateEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: false,
      DkimAttributes: {
        SigningEnabled: true,
        Status: 'PENDING',
        Tokens: TOKENS,
        SigningAttributesOrigin: 'AWS_SES',
        SigningHostedZone: 'dkim.amazonses.com',
      },
    });
    ses.on(PutEmailIdentityMailFromAttributesCommand).resolves({});
    ses.on(GetTenantCommand).rejects(new NotFoundException({ message: 'no', $metadata: {} }));
    ses
      .on(CreateTenantCommand)
      .resolves({ TenantName: 'acme', TenantArn: TENANT_ARN, TenantId: 'tn-0123456789abcdef0' });
    ses.on(CreateTenantResourceAssociationCommand).resolves({});
    route53HoldsZone();
  });
  afterEach(() => harness.end());

  const terminal = () => emitted.at(-1) as Emitted;

  /** A Route 53 zone for example.com whose record sets DNS serves as soon as they are written. */
  function route53HoldsZone() {
    route53.on(ListHostedZonesByNameCommand).resolves({
      HostedZones: [
        {
          Id: '/hostedzone/Z0EXAMPLE',
          Name: 'example.com.',
          CallerReference: 'r',
          Config: { PrivateZone: false },
        },
      ],
      IsTruncated: false,
      MaxItems: 100,
    });
    route53
      .on(ListResourceRecordSetsCommand)
      .callsFake((input: ListResourceRecordSetsCommandInput) => {
        const set = recordSets.get(`${input.StartRecordName} ${input.StartRecordType}`);
        return { ResourceRecordSets: set ? [set] : [], IsTruncated: false, MaxItems: 1 };
      });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .callsFake((input: ChangeResourceRecordSetsCommandInput) => {
        for (const change of input.ChangeBatch?.Changes ?? []) {
          const set = change.ResourceRecordSet as ResourceRecordSet;
          recordSets.set(`${set.Name} ${set.Type}`, set);
          serve(set);
        }
        return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
      });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  }

  /** What DNS answers for a record set once Route 53 holds it. */
  function serve(set: ResourceRecordSet) {
    const name = (set.Name ?? '').replace(/\.$/, '');
    const data = zone[name] ?? {};
    zone[name] = data;
    const values = (set.ResourceRecords ?? []).map((record) => record.Value ?? '');
    if (set.Type === 'CNAME') data.CNAME = values.map((v) => v.replace(/\.$/, ''));
    if (set.Type === 'TXT') data.TXT = values.map((v) => [v.replace(/^"|"$/g, '')]);
    if (set.Type === 'MX') {
      data.MX = values.map((v) => {
        const [priority = '10', exchange = ''] = v.split(' ');
        return { priority: Number(priority), exchange: exchange.replace(/\.$/, '') };
      });
    }
  }

  /** SES: DKIM SUCCESS from `dkimAt`, MAIL FROM in the status `mailFrom()` says. */
  function sesSees(dkimAt: number, mailFrom: () => string) {
    const verified = () => Date.now() >= dkimAt;
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: verified(),
      DkimAttributes: {
        Status: verified() ? 'SUCCESS' : 'PENDING',
        Tokens: TOKENS,
        SigningAttributesOrigin: 'AWS_SES',
      },
      MailFromAttributes: {
        MailFromDomain: 'bounce.example.com',
        MailFromDomainStatus: mailFrom(),
        BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      },
    }));
    ses.on(ListEmailIdentitiesCommand).callsFake(() => ({
      EmailIdentities: [
        {
          IdentityType: 'DOMAIN',
          IdentityName: 'example.com',
          SendingEnabled: verified(),
          VerificationStatus: verified() ? 'SUCCESS' : 'PENDING',
        },
      ],
    }));
  }

  it('sets MAIL FROM and the tenant in the changes lane, publishes each part in its own change, and is verified once every part is ready', async () => {
    sesSees(START.getTime() + 2 * MINUTE, () => 'SUCCESS');

    const run = await harness.run(REQUEST, { sweeper: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).toContain('ConfigureSending');
    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityMailFromAttributesCommand, {
      EmailIdentity: 'example.com',
      MailFromDomain: 'bounce.example.com',
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    });
    expect(ses).toHaveReceivedCommandWith(CreateTenantCommand, { TenantName: 'acme' });
    expect(ses).toHaveReceivedCommandWith(CreateTenantResourceAssociationCommand, {
      TenantName: 'acme',
      ResourceArn: IDENTITY_ARN,
    });
    const batches = route53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .map((call) =>
        (call.args[0].input.ChangeBatch?.Changes ?? []).map(
          (c) => `${c.Action} ${c.ResourceRecordSet?.Type} ${c.ResourceRecordSet?.Name}`,
        ),
      );
    expect(batches).toEqual([
      TOKENS.map((t) => `UPSERT CNAME ${t}._domainkey.example.com.`),
      ['UPSERT MX bounce.example.com.', 'UPSERT TXT bounce.example.com.'],
      ['CREATE TXT _dmarc.example.com.'],
    ]);
    expect(recordSets.get('bounce.example.com. MX')?.ResourceRecords).toEqual([
      { Value: '10 feedback-smtp.us-east-1.amazonses.com.' },
    ]);
    expect(terminal().detailType).toBe('Email Identity Verified');
    expectValidDetail('Email Identity Verified', terminal().detail);
    const readiness = terminal().detail.readiness as Record<string, Record<string, unknown>>;
    expect(Object.fromEntries(Object.entries(readiness).map(([k, v]) => [k, v.status]))).toEqual({
      dkim: 'READY',
      mail_from: 'READY',
      dmarc: 'READY',
      tenant: 'READY',
    });
    expect(readiness.dmarc).toMatchObject({ action: 'PUBLISHED' });
    expect(readiness.tenant).toMatchObject({ tenant_arn: TENANT_ARN, created: true });
    const published = emitted.find((e) => e.detailType === 'DNS Records Published') as Emitted;
    expectValidDetail('DNS Records Published', published.detail);
  });

  it('keeps a DMARC record that already exists, reports it, and never writes one', async () => {
    recordSets.set('_dmarc.example.com. TXT', {
      Name: '_dmarc.example.com.',
      Type: 'TXT',
      TTL: 300,
      ResourceRecords: [{ Value: '"v=DMARC1; p=none; rua=mailto:owner@example.com"' }],
    });
    serve(recordSets.get('_dmarc.example.com. TXT') as ResourceRecordSet);
    sesSees(START.getTime() + 2 * MINUTE, () => 'SUCCESS');

    const run = await harness.run(REQUEST, { sweeper: true });

    expect(run.status).toBe('SUCCEEDED');
    const writes = route53
      .commandCalls(ChangeResourceRecordSetsCommand)
      .flatMap((call) => call.args[0].input.ChangeBatch?.Changes ?? [])
      .map((change) => change.ResourceRecordSet?.Name);
    expect(writes).not.toContain('_dmarc.example.com.');
    expect(recordSets.get('_dmarc.example.com. TXT')?.ResourceRecords).toEqual([
      { Value: '"v=DMARC1; p=none; rua=mailto:owner@example.com"' },
    ]);
    const published = emitted.find((e) => e.detailType === 'DNS Records Published') as Emitted;
    expect(published.detail.dmarc).toEqual({
      action: 'EXISTING',
      name: '_dmarc.example.com',
      value: 'v=DMARC1; p=none; rua=mailto:owner@example.com',
    });
    const readiness = terminal().detail.readiness as Record<string, Record<string, unknown>>;
    expect(readiness.dmarc).toMatchObject({ status: 'READY', action: 'EXISTING' });
  });

  it('looks on its own once SES verified DKIM, since nothing wakes it for MAIL FROM, and is verified when SES sees the MX record', async () => {
    const mailFromAt = START.getTime() + 3 * HOUR;
    sesSees(START.getTime() + 2 * MINUTE, () => (Date.now() >= mailFromAt ? 'SUCCESS' : 'PENDING'));

    const run = await harness.run(REQUEST, { sweeper: true });

    expect(run.status).toBe('SUCCEEDED');
    const verifiedAt = Date.parse(terminal().detail.verified_at as string);
    // Within the hour that follows: not the 24-hour safety net of a run that waits on DKIM.
    expect(verifiedAt).toBeGreaterThanOrEqual(mailFromAt);
    expect(verifiedAt - mailFromAt).toBeLessThanOrEqual(HOUR);
  });

  it('fails with MAIL_FROM_FAILED, retryable, saying what to add, when SES reports the MAIL FROM domain FAILED', async () => {
    sesSees(START.getTime() + 2 * MINUTE, () => 'FAILED');

    const run = await harness.run(REQUEST, { sweeper: true });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('MAIL_FROM_FAILED');
    expect(terminal().detailType).toBe('Email Identity Verification Failed');
    expectValidDetail('Email Identity Verification Failed', terminal().detail);
    expect(terminal().detail.reason).toMatchObject({ code: 'MAIL_FROM_FAILED', retryable: true });
    expect((terminal().detail.reason as { message: string }).message).toContain(
      'feedback-smtp.us-east-1.amazonses.com',
    );
    const readiness = terminal().detail.readiness as Record<string, Record<string, unknown>>;
    expect(readiness.mail_from).toMatchObject({ status: 'FAILED', ses_status: 'FAILED' });
  });

  it('adds an existing tenant without creating it, with the configuration set', async () => {
    ses
      .on(GetTenantCommand)
      .resolves({ Tenant: { TenantName: 'acme', TenantArn: TENANT_ARN, TenantId: 'tn-1' } });
    sesSees(START.getTime() + 2 * MINUTE, () => 'SUCCESS');

    const run = await harness.run(
      { EmailIdentity: 'example.com', ConfigurationSetName: 'acme-set', Tenant: { Name: 'acme' } },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(ses).not.toHaveReceivedCommand(CreateTenantCommand);
    expect(ses).toHaveReceivedCommandWith(CreateTenantResourceAssociationCommand, {
      TenantName: 'acme',
      ResourceArn: 'arn:aws:ses:us-east-1:000000000000:configuration-set/acme-set',
    });
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityMailFromAttributesCommand);
    const readiness = terminal().detail.readiness as Record<string, Record<string, unknown>>;
    expect(Object.keys(readiness)).toEqual(['dkim', 'tenant']);
    expect(readiness.tenant).toMatchObject({ status: 'READY', created: false });
  });

  it('ends in the failure event with SES_ERROR when SES refuses the MAIL FROM domain', async () => {
    ses
      .on(PutEmailIdentityMailFromAttributesCommand)
      .rejects(new BadRequestException({ message: 'Invalid MAIL FROM domain', $metadata: {} }));
    sesSees(START.getTime() + 2 * MINUTE, () => 'SUCCESS');

    const run = await harness.run(REQUEST);

    expect(run.status).toBe('FAILED');
    expect(run.statesEntered).not.toContain('PublishDnsRecords');
    expect(terminal().detailType).toBe('Email Identity Verification Failed');
    expectValidDetail('Email Identity Verification Failed', terminal().detail);
    expect(terminal().detail.reason).toMatchObject({ code: 'SES_ERROR', retryable: false });
  });
});
