import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  PutEmailIdentityDkimSigningAttributesCommand,
  type PutEmailIdentityDkimSigningAttributesCommandInput,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

const START = new Date('2026-11-23T09:00:00.000Z');
const OLD_TOKENS = [
  'oldtokenaaaaaaaaaaaaaaaaaaaaaaaa',
  'oldtokenbbbbbbbbbbbbbbbbbbbbbbbb',
  'oldtokencccccccccccccccccccccccc',
];
const NEW_TOKENS = [
  'newtokenaaaaaaaaaaaaaaaaaaaaaaaa',
  'newtokenbbbbbbbbbbbbbbbbbbbbbbbb',
  'newtokencccccccccccccccccccccccc',
];
const SES_DELAY_MS = 10 * 60_000;

type Signing = { origin: 'AWS_SES' | 'EXTERNAL'; tokens: string[] };

/**
 * A DKIM change against a modelled SES and Route 53: Route 53 writes go into the zone the test DNS
 * server answers from; SES reports SUCCESS once the new records have been in DNS for ten
 * minutes. Every Route 53 DELETE is logged with SES's status at that moment.
 */
describe('VerifyEmailIdentity state machine: DKIM signing changes', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let harness: StateMachineHarness;
  let emitted: { detailType: string; detail: Record<string, unknown> }[];
  let signing: Signing;
  let newRecordsSeenAt: number | null;
  /** False: Route 53 accepts changes but the name servers never serve them. */
  let dnsServesChanges: boolean;
  let deletes: { names: string[]; sesStatus: string }[];

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    process.env.DNS_RESOLVERS = `127.0.0.1:${dns.port}`;
    process.env.DNS_QUERY_AUTHORITATIVE = 'false';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    harness = await StateMachineHarness.start();
  });
  afterAll(async () => {
    await harness.close();
    await dns.close();
  });

  const dkimNames = (s: Signing) =>
    s.origin === 'AWS_SES'
      ? s.tokens.map((t) => `${t}._domainkey.example.com`)
      : s.tokens.map((selector) => `${selector}._domainkey.example.com`);
  const sesStatus = () => {
    if (newRecordsSeenAt === null && dkimNames(signing).every((name) => zone[name] !== undefined)) {
      newRecordsSeenAt = Date.now();
    }
    return newRecordsSeenAt !== null && Date.now() >= newRecordsSeenAt + SES_DELAY_MS
      ? 'SUCCESS'
      : 'PENDING';
  };

  beforeEach(async () => {
    for (const key of Object.keys(zone)) delete zone[key];
    ses.reset();
    route53.reset();
    eventBridge.reset();
    emitted = [];
    deletes = [];
    newRecordsSeenAt = null;
    dnsServesChanges = true;
    await harness.begin(START);

    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      for (const e of input.Entries ?? [])
        emitted.push({ detailType: e.DetailType ?? '', detail: JSON.parse(e.Detail ?? '{}') });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: true,
      DkimAttributes: {
        SigningEnabled: true,
        Status: newRecordsSeenAt === null && !changed ? 'SUCCESS' : sesStatus(),
        Tokens: signing.tokens,
        SigningAttributesOrigin: signing.origin,
        CurrentSigningKeyLength: 'RSA_2048_BIT',
        NextSigningKeyLength: 'RSA_2048_BIT',
      },
    }));
    // The sweeper's bulk read: the identity's status, as GetEmailIdentity reports it.
    ses.on(ListEmailIdentitiesCommand).callsFake(() => ({
      EmailIdentities: [
        {
          IdentityType: 'DOMAIN',
          IdentityName: 'example.com',
          SendingEnabled: true,
          VerificationStatus: newRecordsSeenAt === null && !changed ? 'SUCCESS' : sesStatus(),
        },
      ],
    }));
    changed = false;
    ses
      .on(PutEmailIdentityDkimSigningAttributesCommand)
      .callsFake((input: PutEmailIdentityDkimSigningAttributesCommandInput) => {
        changed = true;
        signing =
          input.SigningAttributesOrigin === 'EXTERNAL'
            ? { origin: 'EXTERNAL', tokens: [input.SigningAttributes?.DomainSigningSelector ?? ''] }
            : { origin: 'AWS_SES', tokens: NEW_TOKENS };
        return { DkimStatus: 'PENDING', DkimTokens: signing.tokens };
      });

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
        const name = (input.StartRecordName ?? '').replace(/\.$/, '');
        const data = zone[name];
        const values =
          input.StartRecordType === 'CNAME'
            ? (data?.CNAME ?? []).map((target) => `${target}.`)
            : (data?.TXT ?? []).map((strings) => strings.map((s) => `"${s}"`).join(' '));
        return {
          ResourceRecordSets:
            values.length > 0
              ? [
                  {
                    Name: `${name}.`,
                    Type: input.StartRecordType,
                    TTL: 1800,
                    ResourceRecords: values.map((Value) => ({ Value })),
                  },
                ]
              : [],
          IsTruncated: false,
          MaxItems: 1,
        };
      });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .callsFake((input: ChangeResourceRecordSetsCommandInput) => {
        const changes: Change[] = input.ChangeBatch?.Changes ?? [];
        const deleted = changes.filter((c) => c.Action === 'DELETE');
        if (deleted.length > 0) {
          deletes.push({
            names: deleted.map((c) => (c.ResourceRecordSet?.Name ?? '').replace(/\.$/, '')),
            sesStatus: sesStatus(),
          });
        }
        if (dnsServesChanges) for (const c of changes) applyChange(c);
        return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
      });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  });
  afterEach(() => harness.end());

  let changed = false;

  function applyChange(change: Change) {
    const set = change.ResourceRecordSet;
    const name = (set?.Name ?? '').replace(/\.$/, '');
    if (change.Action === 'DELETE') {
      delete zone[name];
      return;
    }
    const values = (set?.ResourceRecords ?? []).map((r) => r.Value ?? '');
    zone[name] =
      set?.Type === 'CNAME'
        ? { CNAME: values.map((v) => v.replace(/\.$/, '')) }
        : {
            TXT: values.map((v) =>
              [...v.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string),
            ),
          };
  }

  function startWith(initial: Signing) {
    signing = initial;
    for (const name of dkimNames(initial)) {
      zone[name] =
        initial.origin === 'AWS_SES'
          ? { CNAME: [`${name.split('.')[0]}.dkim.amazonses.com`] }
          : { TXT: [['v=DKIM1; k=rsa; p=OLDKEY']] };
    }
  }

  const verified = () =>
    emitted.at(-1)?.detail as {
      change: {
        kind: string;
        from: { origin: string; selector: string | null };
        to: { origin: string; selector: string | null };
      };
      cleanup: { removed_records: { name: string }[]; remaining_stale_records: unknown[] };
    };

  it('switches Easy DKIM to BYODKIM and removes the old CNAMEs only after SES reports SUCCESS', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });

    const run = await harness.run(
      {
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'tenant1', GenerateDomainSigningKey: {} },
      },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(emitted.map((e) => e.detailType)).toEqual([
      'DNS Records Published',
      'Email Identity Verified',
    ]);
    expect(verified().change).toMatchObject({
      kind: 'EASY_DKIM_TO_BYODKIM',
      from: { origin: 'AWS_SES' },
      to: { origin: 'EXTERNAL', selector: 'tenant1' },
    });
    expect(deletes).toEqual([
      { names: OLD_TOKENS.map((t) => `${t}._domainkey.example.com`), sesStatus: 'SUCCESS' },
    ]);
    expect(verified().cleanup.removed_records.map((r) => r.name)).toEqual(
      OLD_TOKENS.map((t) => `${t}._domainkey.example.com`),
    );
    expect(Object.keys(zone)).toEqual(['tenant1._domainkey.example.com']);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('switches BYODKIM to Easy DKIM and removes the old selector TXT only after SUCCESS', async () => {
    startWith({ origin: 'EXTERNAL', tokens: ['tenant1'] });

    const run = await harness.run(
      {
        // As an onboarding event's detail: SigningAttributesOrigin alone marks a change.
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'AWS_SES',
      },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(verified().change).toMatchObject({
      kind: 'BYODKIM_TO_EASY_DKIM',
      from: { origin: 'EXTERNAL', selector: 'tenant1' },
      to: { origin: 'AWS_SES' },
    });
    expect(deletes).toEqual([{ names: ['tenant1._domainkey.example.com'], sesStatus: 'SUCCESS' }]);
    expect(Object.keys(zone).sort()).toEqual(
      NEW_TOKENS.map((t) => `${t}._domainkey.example.com`).sort(),
    );
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('rotates a BYODKIM key to a new selector, keeping the old TXT until the new one verifies', async () => {
    startWith({ origin: 'EXTERNAL', tokens: ['tenant1'] });

    const run = await harness.run(
      {
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {} },
      },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(verified().change).toMatchObject({
      kind: 'BYODKIM_KEY_ROTATION',
      to: { selector: 'ses-20261123' },
    });
    expect(deletes).toEqual([{ names: ['tenant1._domainkey.example.com'], sesStatus: 'SUCCESS' }]);
    expect(Object.keys(zone)).toEqual(['ses-20261123._domainkey.example.com']);
  });

  it('leaves the old records in place when the new DKIM never verifies', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });
    // The new TXT never reaches the name servers, so neither SES nor the probe ever sees it: no
    // sweep has anything to wake the run for, it looks on its own at 24 and 48 hours and at the
    // deadline, and times out.
    dnsServesChanges = false;

    const run = await harness.run(
      {
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'tenant1', GenerateDomainSigningKey: {} },
      },
      {},
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'TIMED_OUT' });
    expect(deletes).toEqual([]);
    for (const t of OLD_TOKENS) expect(zone[`${t}._domainkey.example.com`]).toBeDefined();
    const failed = emitted.at(-1)?.detail as { change: { kind: string; stale_records: unknown[] } };
    expect(failed.change.kind).toBe('EASY_DKIM_TO_BYODKIM');
    expect(failed.change.stale_records).toHaveLength(3);
    expectValidDetail('Email Identity Verification Failed', failed);
  });
});
