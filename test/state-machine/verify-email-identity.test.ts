import { generateKeyPairSync } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  GetEmailIdentityCommand,
  LimitExceededException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '#sandbox/asl-runner/local-tasks.js';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { EVENT_SOURCE, loadHandlers, runExecution } from './harness.js';

/** A throwaway RSA key, as base64 DER, the way a secret holds one. */
const generatedPrivateKey = () =>
  generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs1', format: 'der' })
    .toString('base64');

const START = new Date('2026-11-02T09:00:00.000Z');
const HOUR = 3600_000;
const TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];
const cnameName = (token: string, domain = 'example.com') => `${token}._domainkey.${domain}`;

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

describe('VerifyEmailIdentity state machine', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const secrets = mockClient(SecretsManagerClient);
  // What DNS answers; the test server reads it at query time, so records can appear mid-run.
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let handlers: Record<string, LambdaHandler>;
  let emitted: Emitted[];

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    process.env.DNS_RESOLVERS = `127.0.0.1:${dns.port}`;
    process.env.DNS_QUERY_AUTHORITATIVE = 'false';
    process.env.DNS_QUERY_TIMEOUT_MS = '500';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    handlers = await loadHandlers();
  });
  afterAll(() => dns.close());

  beforeEach(() => {
    ses.reset();
    route53.reset();
    eventBridge.reset();
    secrets.reset();
    for (const name of Object.keys(zone)) delete zone[name];
    emitted = [];
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: START,
    });
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => record(input));
  });
  afterEach(() => vi.useRealTimers());

  // The events EventBridge accepted, in order; every one must match its schema.
  function record(input: PutEventsCommandInput) {
    for (const entry of input.Entries ?? []) {
      expect(entry.Source).toBe(EVENT_SOURCE);
      emitted.push({
        detailType: entry.DetailType ?? '',
        detail: JSON.parse(entry.Detail ?? '{}'),
      });
    }
    return {
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_e, i) => ({ EventId: `event-${i}` })),
    };
  }
  const detailTypes = () => emitted.map((e) => e.detailType);
  const terminal = () => emitted.at(-1) as Emitted;
  const hoursSinceStart = () => (Date.now() - START.getTime()) / HOUR;

  const EASY_DKIM_CREATED = {
    IdentityType: 'DOMAIN',
    VerifiedForSendingStatus: false,
    DkimAttributes: {
      SigningEnabled: true,
      Status: 'PENDING',
      Tokens: TOKENS,
      SigningAttributesOrigin: 'AWS_SES',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
      NextSigningKeyLength: 'RSA_2048_BIT',
    },
  } as const;
  const easyDkimCreated = () => ses.on(CreateEmailIdentityCommand).resolves(EASY_DKIM_CREATED);
  // SES as it behaves: PENDING until it has seen the records, SUCCESS from `flipAt` on.
  function sesFlipsAt(flipAt: () => number | null) {
    ses.on(GetEmailIdentityCommand).callsFake(() => {
      const at = flipAt();
      const verified = at !== null && Date.now() >= at;
      return {
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: verified,
        DkimAttributes: {
          Status: verified ? 'SUCCESS' : 'PENDING',
          Tokens: TOKENS,
          SigningAttributesOrigin: 'AWS_SES',
        },
      };
    });
  }
  function route53HasZone() {
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
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 300 });
    route53.on(ChangeResourceRecordSetsCommand).callsFake(() => {
      // What Route 53 then serves: the records appear in DNS.
      for (const token of TOKENS)
        zone[cnameName(token)] = { CNAME: [`${token}.dkim.amazonses.com`] };
      // INSYNC at once: the provider's own wait for INSYNC is covered by its unit tests.
      return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
    });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  }
  function route53HasNoZone() {
    route53
      .on(ListHostedZonesByNameCommand)
      .resolves({ HostedZones: [], IsTruncated: false, MaxItems: 100 });
  }

  it('verifies a domain fast when Route 53 publishes the records', async () => {
    easyDkimCreated();
    route53HasZone();
    let recordsSeenAt: number | null = null;
    sesFlipsAt(() => {
      recordsSeenAt ??= Date.now();
      return recordsSeenAt + 4 * 60_000;
    });

    const run = await runExecution({ EmailIdentity: 'Example.COM' }, { handlers });

    expect(run.status).toBe('SUCCEEDED');
    expect(detailTypes()).toEqual(['DNS Records Published', 'Email Identity Verified']);
    expect(emitted[0]?.detail).toMatchObject({
      identity: 'example.com',
      provider: 'route53',
      hosted_zone_id: 'Z0EXAMPLE',
    });
    expect(terminal().detail).toMatchObject({
      identity: 'example.com',
      dkim_status: 'SUCCESS',
      dkim: expect.objectContaining({ status: 'SUCCESS', tokens: TOKENS }),
      provider: 'route53',
    });
    expect(hoursSinceStart()).toBeLessThan(0.5);
    expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('verifies a manual domain whose records a person adds at hour 30', async () => {
    easyDkimCreated();
    route53HasNoZone();
    const addedAt = START.getTime() + 30 * HOUR;
    sesFlipsAt(() => addedAt + 10 * 60_000);
    // The records exist in DNS from hour 30 on.
    const addRecordsAtHour30 = setTimeout(() => {
      for (const token of TOKENS)
        zone[cnameName(token)] = { CNAME: [`${token}.dkim.amazonses.com`] };
    }, 30 * HOUR);

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });
    clearTimeout(addRecordsAtHour30);

    expect(run.status).toBe('SUCCEEDED');
    expect(detailTypes()).toEqual(['DNS Records Required', 'Email Identity Verified']);
    const required = emitted[0]?.detail as {
      records: unknown[];
      zone_file: string[];
      provider: string;
    };
    expect(required.provider).toBe('manual');
    expect(required.records).toHaveLength(3);
    expect(required.zone_file.join('\n')).toContain(`${cnameName(TOKENS[0] as string)}.`);
    // Seen within the slow pace's hour of the records appearing, plus the fast pace after SES flips.
    expect(hoursSinceStart()).toBeGreaterThan(30);
    expect(hoursSinceStart()).toBeLessThan(31.5);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('fails with TIMED_OUT at 72 hours when the records are never published', async () => {
    easyDkimCreated();
    route53HasNoZone();
    sesFlipsAt(() => null);

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run).toMatchObject({ status: 'FAILED', error: 'TIMED_OUT' });
    expect(detailTypes()).toEqual(['DNS Records Required', 'Email Identity Verification Failed']);
    const failed = terminal().detail as {
      reason: { code: string };
      diagnosis: { status: string }[];
    };
    expect(failed.reason.code).toBe('TIMED_OUT');
    expect(failed.diagnosis.map((d) => d.status)).toEqual(['MISSING', 'MISSING', 'MISSING']);
    expect(hoursSinceStart()).toBeGreaterThanOrEqual(72);
    expect(hoursSinceStart()).toBeLessThan(72.1);
    const checks = ses.commandCalls(GetEmailIdentityCommand).length;
    expect(checks).toBeLessThanOrEqual(100);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('fails with DKIM_FAILED, SES ErrorType and the probe when SES says FAILED', async () => {
    easyDkimCreated();
    route53HasNoZone();
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: false,
      DkimAttributes: { Status: 'FAILED', Tokens: TOKENS },
      VerificationInfo: { ErrorType: 'HOST_NOT_FOUND', LastCheckedTimestamp: START },
    });

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run).toMatchObject({ status: 'FAILED', error: 'DKIM_FAILED' });
    expect(detailTypes()).toEqual(['DNS Records Required', 'Email Identity Verification Failed']);
    expect(terminal().detail).toMatchObject({
      reason: { code: 'DKIM_FAILED' },
      verification_info: { error_type: 'HOST_NOT_FOUND' },
    });
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('retries a throttled CreateEmailIdentity and then succeeds', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejectsOnce(
        new TooManyRequestsException({ message: 'Maximum sending rate exceeded', $metadata: {} }),
      )
      .resolves(EASY_DKIM_CREATED);
    route53HasZone();
    sesFlipsAt(() => START.getTime());

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run.status).toBe('SUCCEEDED');
    expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 2);
    expect(run.statesEntered.filter((s) => s === 'CreateIdentity')).toHaveLength(1);
    expect(detailTypes()).toEqual(['DNS Records Published', 'Email Identity Verified']);
  });

  it('fails with SES_ERROR once the retries of a throttled CreateEmailIdentity are exhausted', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run).toMatchObject({ status: 'FAILED', error: 'SES_ERROR' });
    // The first attempt and eight retries.
    expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 9);
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('fails with VALIDATION_ERROR, listing every problem, without calling SES', async () => {
    const run = await runExecution(
      { EmailIdentity: 'bad..domain', Tags: [{ Key: 'aws:team', Value: 'x' }], Colour: 'blue' },
      { handlers },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'VALIDATION_ERROR' });
    expect(ses.calls()).toHaveLength(0);
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    const failed = terminal().detail as { reason: { code: string }; details: { field: string }[] };
    expect(failed.reason.code).toBe('VALIDATION_ERROR');
    expect(failed.details.map((d) => d.field)).toEqual(
      expect.arrayContaining(['EmailIdentity', 'Tags[0].Key', 'Colour']),
    );
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('fails with CONFLICT when the identity exists with another kind of DKIM', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: {
        Status: 'SUCCESS',
        SigningAttributesOrigin: 'EXTERNAL',
        Tokens: ['legacy'],
      },
    });

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run).toMatchObject({ status: 'FAILED', error: 'CONFLICT' });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
  });

  it('fails with DNS_PUBLISH_FAILED when route53 is asked for and no zone matches', async () => {
    easyDkimCreated();
    route53HasNoZone();

    const run = await runExecution(
      { EmailIdentity: 'example.com', Dns: { Provider: 'route53' } },
      { handlers },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'DNS_PUBLISH_FAILED' });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expect(terminal().detail).toMatchObject({ identity: 'example.com', identity_type: 'DOMAIN' });
  });

  it('retries a notification whose PutEvents entry failed, and emits it once', async () => {
    easyDkimCreated();
    route53HasZone();
    sesFlipsAt(() => START.getTime());
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .callsFake((input: PutEventsCommandInput) => record(input));

    const run = await runExecution({ EmailIdentity: 'example.com' }, { handlers });

    expect(run.status).toBe('SUCCEEDED');
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect(detailTypes()).toEqual(['DNS Records Published', 'Email Identity Verified']);
  });

  it('verifies an address after 3 hours, with no DNS step and no DNS event', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false });
    const confirmedAt = START.getTime() + 3 * HOUR;
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'EMAIL_ADDRESS',
      VerifiedForSendingStatus: Date.now() >= confirmedAt,
    }));

    const run = await runExecution({ EmailIdentity: 'Ops@Example.com' }, { handlers });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).not.toContain('PublishDnsRecords');
    expect(detailTypes()).toEqual(['Email Identity Verified']);
    expect(terminal().detail).toMatchObject({ identity_type: 'EMAIL_ADDRESS', records: [] });
    expect(hoursSinceStart()).toBeGreaterThanOrEqual(3);
    expect(hoursSinceStart()).toBeLessThan(3.3);
    expect(route53.calls()).toHaveLength(0);
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('deletes a supplied key secret once SES holds the key, and not before', async () => {
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:stack/dkim-private-keys/example.com-abc';
    secrets.on(GetSecretValueCommand).resolves({ SecretString: generatedPrivateKey() });
    secrets.on(DeleteSecretCommand).resolves({});
    ses.on(CreateEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: { Status: 'PENDING', Tokens: ['s1'], SigningAttributesOrigin: 'EXTERNAL' },
    });
    route53HasZone();
    sesFlipsAt(() => START.getTime());

    const run = await runExecution(
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: secretArn,
        },
      },
      { handlers },
    );

    expect(run.statesEntered.slice(0, 5)).toEqual([
      'ReadRequest',
      'ChooseOperation',
      'CreateIdentity',
      'HasKeySecret',
      'DiscardKeySecret',
    ]);
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, {
      SecretId: secretArn,
      ForceDeleteWithoutRecovery: true,
    });
    const created = ses.commandCalls(CreateEmailIdentityCommand)[0];
    const deleted = secrets.commandCalls(DeleteSecretCommand)[0];
    expect(created?.calledBefore(deleted as never)).toBe(true);
  });

  it('deletes a supplied key secret when the run fails, before the failure event', async () => {
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:stack/dkim-private-keys/example.com-abc';
    secrets.on(GetSecretValueCommand).resolves({ SecretString: generatedPrivateKey() });
    secrets.on(DeleteSecretCommand).resolves({});
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new LimitExceededException({ message: 'too many identities', $metadata: {} }));

    const run = await runExecution(
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: secretArn,
        },
      },
      { handlers },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'SES_ERROR' });
    expect(run.statesEntered).toContain('DiscardKeySecretAfterFailure');
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: secretArn });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
  });

  it('still emits the failure event when DescribeFailure itself cannot run', async () => {
    const broken: LambdaHandler = async () => {
      throw new TypeError('boom');
    };

    const run = await runExecution(
      { EmailIdentity: 'bad..domain' },
      { handlers, overrides: { 'describe-failure': broken } },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'INTERNAL_ERROR' });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expectValidDetail(terminal().detailType, terminal().detail);
  });
});
