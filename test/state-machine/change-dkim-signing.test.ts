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
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
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
 * minutes. Every Route 53 change and every SES switch is logged in order, with what DNS held then.
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
  /** Route 53 changes and SES switches, in the order they were made. */
  let calls: string[];
  /** True: SES marks the new signing FAILED once switched, and the domain unverified. */
  let sesFailsNewSigning: boolean;
  const secrets = mockClient(SecretsManagerClient);
  const secretValues = new Map<string, string>();

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
    calls = [];
    newRecordsSeenAt = null;
    dnsServesChanges = true;
    sesFailsNewSigning = false;
    secrets.reset();
    secretValues.clear();
    secrets.on(CreateSecretCommand).callsFake((input) => {
      const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${input.Name}`;
      secretValues.set(arn, input.SecretString);
      return { ARN: arn, Name: input.Name };
    });
    secrets.on(GetSecretValueCommand).callsFake((input) => {
      const value = secretValues.get(input.SecretId);
      if (value === undefined) throw new Error(`no secret ${input.SecretId}`);
      return { SecretString: value };
    });
    secrets.on(DeleteSecretCommand).callsFake((input) => {
      secretValues.delete(input.SecretId);
      return {};
    });
    await harness.begin(START);

    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      for (const e of input.Entries ?? [])
        emitted.push({ detailType: e.DetailType ?? '', detail: JSON.parse(e.Detail ?? '{}') });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: !(changed && sesFailsNewSigning),
      DkimAttributes: {
        SigningEnabled: true,
        Status:
          changed && sesFailsNewSigning
            ? 'FAILED'
            : newRecordsSeenAt === null && !changed
              ? 'SUCCESS'
              : sesStatus(),
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
          VerificationStatus:
            changed && sesFailsNewSigning
              ? 'FAILED'
              : newRecordsSeenAt === null && !changed
                ? 'SUCCESS'
                : sesStatus(),
        },
      ],
    }));
    changed = false;
    ses
      .on(PutEmailIdentityDkimSigningAttributesCommand)
      .callsFake((input: PutEmailIdentityDkimSigningAttributesCommandInput) => {
        changed = true;
        calls.push(
          `switch SES to ${input.SigningAttributesOrigin} ${input.SigningAttributes?.DomainSigningSelector ?? ''}`.trim(),
        );
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
        for (const c of changes) {
          calls.push(`${c.Action} ${(c.ResourceRecordSet?.Name ?? '').replace(/\.$/, '')}`);
        }
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

  /** The registry's record of the run that published the starting records through Route 53. */
  async function publishedByTheStack(initial: Signing) {
    const records = dkimNames(initial).map((name) => ({
      type: initial.origin === 'AWS_SES' ? 'CNAME' : 'TXT',
      name,
      value: 'x',
      ttl: 1800,
    }));
    await harness.putRegistryItem({
      identity: 'example.com',
      kind: 'IDENTITY',
      identity_type: 'DOMAIN',
      status: 'VERIFIED',
      dkim_status: 'SUCCESS',
      created_at: '2026-11-01T00:00:00.000Z',
      updated_at: '2026-11-01T00:00:00.000Z',
      latest_run: null,
      records_json: JSON.stringify(records),
      published_json: JSON.stringify({
        provider: 'route53',
        provider_reason: 'zone matched',
        hosted_zone_id: 'Z0EXAMPLE',
        hosted_zone_name: 'example.com',
        written: true,
        change_id: 'C0',
        records,
        zone_file: [],
      }),
    });
  }

  type Cleanup = {
    removed_records: { name: string }[];
    scheduled_records: { name: string }[];
    remaining_stale_records: { name: string }[];
    detail: string;
  };
  const verified = () =>
    emitted.at(-1)?.detail as {
      change: {
        kind: string;
        from: { origin: string; selector: string | null };
        to: { origin: string; selector: string | null };
        switched_at: string | null;
      };
      cleanup: Cleanup;
    };
  const failed = () =>
    emitted.at(-1)?.detail as {
      reason: { code: string };
      change: { kind: string; stale_records: unknown[]; switched_at: string | null };
      can_still_send: boolean;
      sending: string;
      rollback?: Record<string, unknown>;
    };
  const oldCnames = OLD_TOKENS.map((t) => `${t}._domainkey.example.com`);

  it('publishes the new BYODKIM record before switching SES, and keeps the old CNAMEs for the grace period', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });
    await publishedByTheStack({ origin: 'AWS_SES', tokens: OLD_TOKENS });

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
    // Make before break: the TXT is out, and seen, before SES is told of the new key.
    expect(calls).toEqual([
      'UPSERT tenant1._domainkey.example.com',
      'switch SES to EXTERNAL tenant1',
    ]);
    const publishedAt = run.statesEntered.indexOf('PublishDnsRecords');
    expect(run.statesEntered.indexOf('CheckNewRecords')).toBeGreaterThan(publishedAt);
    expect(run.statesEntered.indexOf('ChangeDkimSigning')).toBeGreaterThan(
      run.statesEntered.indexOf('CheckNewRecords'),
    );
    expect(emitted.map((e) => e.detailType)).toEqual([
      'DNS Records Published',
      'Email Identity Verified',
    ]);
    expect(verified().change).toMatchObject({
      kind: 'EASY_DKIM_TO_BYODKIM',
      from: { origin: 'AWS_SES' },
      to: { origin: 'EXTERNAL', selector: 'tenant1' },
    });
    // Not removed at SUCCESS: kept for the grace period, for the remover.
    expect(deletes).toEqual([]);
    expect(Object.keys(zone).sort()).toEqual(
      [...oldCnames, 'tenant1._domainkey.example.com'].sort(),
    );
    expect(verified().cleanup.removed_records).toEqual([]);
    expect(verified().cleanup.scheduled_records.map((r) => r.name)).toEqual(oldCnames);
    expect(verified().cleanup.detail).toContain('grace period (7 days)');
    const item = await harness.registryItem('example.com');
    expect(item?.stale_kind).toBe('STALE_RECORDS');
    const batches = item?.stale_removals as { since: string; removal_json: string }[];
    expect(batches).toHaveLength(1);
    expect(item?.stale_since).toBe(batches[0]?.since);
    expect(JSON.parse(batches[0]?.removal_json ?? '{}')).toMatchObject({
      provider: 'route53',
      hosted_zone_id: 'Z0EXAMPLE',
      records: oldCnames.map((name) => ({ type: 'CNAME', name })),
      by_hand: [],
    });
    // The generated key waited in a secret of the run's own, and went once SES held it.
    expect(secrets).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
    expect(secretValues.size).toBe(0);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('switches BYODKIM to Easy DKIM first (SES names the tokens only then), keeping the old TXT', async () => {
    startWith({ origin: 'EXTERNAL', tokens: ['tenant1'] });
    await publishedByTheStack({ origin: 'EXTERNAL', tokens: ['tenant1'] });

    const run = await harness.run(
      {
        // As an onboarding event's detail: SigningAttributesOrigin alone marks a change.
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'AWS_SES',
      },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(calls).toEqual([
      'switch SES to AWS_SES',
      ...NEW_TOKENS.map((t) => `UPSERT ${t}._domainkey.example.com`),
    ]);
    expect(verified().change).toMatchObject({
      kind: 'BYODKIM_TO_EASY_DKIM',
      from: { origin: 'EXTERNAL', selector: 'tenant1' },
      to: { origin: 'AWS_SES' },
    });
    expect(deletes).toEqual([]);
    expect(Object.keys(zone).sort()).toEqual(
      [
        ...NEW_TOKENS.map((t) => `${t}._domainkey.example.com`),
        'tenant1._domainkey.example.com',
      ].sort(),
    );
    expect(verified().cleanup.scheduled_records.map((r) => r.name)).toEqual([
      'tenant1._domainkey.example.com',
    ]);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('lists old records the stack did not publish for a person, and schedules none of them', async () => {
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
    expect(calls).toEqual([
      'UPSERT ses-20261123._domainkey.example.com',
      'switch SES to EXTERNAL ses-20261123',
    ]);
    expect(verified().cleanup.scheduled_records).toEqual([]);
    expect(verified().cleanup.remaining_stale_records.map((r) => r.name)).toEqual([
      'tenant1._domainkey.example.com',
    ]);
    expect(zone['tenant1._domainkey.example.com']).toBeDefined();
  });

  it('never switches SES when the new record never shows in DNS: the domain can still send', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });
    // The new TXT never reaches the name servers: our probe never sees it, so SES is never
    // switched; the run looks on its own at 24 and 48 hours and at the deadline, and times out.
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
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
    expect(run.statesEntered).not.toContain('ChangeDkimSigning');
    expect(deletes).toEqual([]);
    for (const t of OLD_TOKENS) expect(zone[`${t}._domainkey.example.com`]).toBeDefined();
    expect(failed().change).toMatchObject({ kind: 'EASY_DKIM_TO_BYODKIM', switched_at: null });
    expect(failed().change.stale_records).toHaveLength(3);
    expect(failed().can_still_send).toBe(true);
    expect(failed().sending).toContain('SES was not switched');
    // The generated key never reached SES: its secret goes with the failed run.
    expect(secretValues.size).toBe(0);
    expectValidDetail('Email Identity Verification Failed', failed());
  });

  it('deletes a supplied key whose secret holds no usable key, and says SES was never switched', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:ses-identity-verifier/dkim-private-keys/example.com-0123456789ab';
    secretValues.set(secretArn, 'not a key');

    const run = await harness.run({
      Operation: 'ChangeDkimSigning',
      EmailIdentity: 'example.com',
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: {
        DomainSigningSelector: 'tenant1',
        DomainSigningPrivateKeySecretArn: secretArn,
      },
    });

    expect(run).toMatchObject({ status: 'FAILED', error: 'VALIDATION_ERROR' });
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
    expect(secretValues.has(secretArn)).toBe(false);
    expect(failed().can_still_send).toBe(true);
    expectValidDetail('Email Identity Verification Failed', failed());
  });

  it('says the domain cannot send when SES fails the new signing after the switch', async () => {
    startWith({ origin: 'AWS_SES', tokens: OLD_TOKENS });
    sesFailsNewSigning = true;

    const run = await harness.run(
      {
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'tenant1', GenerateDomainSigningKey: {} },
      },
      { sweeper: true },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'DKIM_FAILED' });
    expect(failed().change.switched_at).not.toBeNull();
    expect(failed().can_still_send).toBe(false);
    // The old records are not touched by a failed change.
    for (const t of OLD_TOKENS) expect(zone[`${t}._domainkey.example.com`]).toBeDefined();
    // Easy DKIM needs no key: SES is switched back, and the tokens it names are published.
    expect(calls).toEqual([
      'UPSERT tenant1._domainkey.example.com',
      'switch SES to EXTERNAL tenant1',
      'switch SES to AWS_SES',
      ...NEW_TOKENS.map((t) => `UPSERT ${t}._domainkey.example.com`),
    ]);
    expect(failed().rollback).toMatchObject({
      origin: 'AWS_SES',
      same_tokens: false,
      tokens: NEW_TOKENS,
      provider: 'route53',
    });
    expect(failed().sending).toContain('was switched back to Easy DKIM, and SES named new tokens');
    expectValidDetail('Email Identity Verification Failed', failed());
  });

  it('leaves a failed BYODKIM rotation as SES has it: no key is kept to switch back to', async () => {
    startWith({ origin: 'EXTERNAL', tokens: ['tenant1'] });
    sesFailsNewSigning = true;

    const run = await harness.run(
      {
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {} },
      },
      { sweeper: true },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'DKIM_FAILED' });
    expect(ses).toHaveReceivedCommandTimes(PutEmailIdentityDkimSigningAttributesCommand, 1);
    expect(failed().rollback).toBeUndefined();
    expect(failed().can_still_send).toBe(false);
    expect(failed().sending).toContain('cannot send now');
    expect(zone['tenant1._domainkey.example.com']).toBeDefined();
    expectValidDetail('Email Identity Verification Failed', failed());
  });
});
