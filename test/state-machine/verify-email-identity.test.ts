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
  ListEmailIdentitiesCommand,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '#sandbox/asl-runner/local-tasks.js';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { EVENT_SOURCE, type ExecutionOutcome, StateMachineHarness } from './harness.js';

/** A throwaway RSA key, as base64 DER, the way a secret holds one. */
const generatedPrivateKey = () =>
  generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs1', format: 'der' })
    .toString('base64');

const START = new Date('2026-11-02T09:00:00.000Z');
const MINUTE = 60_000;
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
  let harness: StateMachineHarness;
  let emitted: Emitted[];

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
    secrets.reset();
    for (const name of Object.keys(zone)) delete zone[name];
    emitted = [];
    await harness.begin(START);
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => record(input));
  });
  afterEach(() => harness.end());

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
  /** What each AwaitVerification ended with: a wake-up's payload, or its time-out. */
  const awaitOutcomes = (run: ExecutionOutcome) =>
    run.events
      .filter((event) => event.type === 'StateExited' && event.state?.name === 'AwaitVerification')
      .map(
        (event) =>
          (event.state?.output as { wake: Record<string, unknown> } | undefined)?.wake ?? {},
      );
  /** POST /identities/{identity}/check, as API Gateway would call its handler. */
  const checkNow = (identity: string) =>
    harness.invoke('check-identity', {
      version: '2.0',
      routeKey: 'POST /identities/{identity}/check',
      rawPath: `/identities/${identity}/check`,
      rawQueryString: '',
      headers: {},
      pathParameters: { identity },
      requestContext: { http: { method: 'POST', path: `/identities/${identity}/check` } },
      isBase64Encoded: false,
    }) as Promise<{ statusCode: number; body: string }>;

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
  /**
   * SES as it behaves: PENDING until it has seen the records, SUCCESS from `flipAt` on, in
   * GetEmailIdentity and in the sweeper's ListEmailIdentities alike.
   */
  function sesFlipsAt(flipAt: () => number | null, identity = 'example.com') {
    const verified = () => {
      const at = flipAt();
      return at !== null && Date.now() >= at;
    };
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: verified(),
      DkimAttributes: {
        Status: verified() ? 'SUCCESS' : 'PENDING',
        Tokens: TOKENS,
        SigningAttributesOrigin: 'AWS_SES',
      },
    }));
    ses.on(ListEmailIdentitiesCommand).callsFake(() => ({
      EmailIdentities: [
        {
          IdentityType: identity.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN',
          IdentityName: identity,
          SendingEnabled: verified(),
          VerificationStatus: verified() ? 'SUCCESS' : 'PENDING',
        },
      ],
    }));
  }
  let publishedAt: number | null = null;
  function route53HasZone() {
    publishedAt = null;
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
      publishedAt = Date.now();
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

  it('verifies a domain within minutes: the sweeper wakes the run when SES flips', async () => {
    easyDkimCreated();
    route53HasZone();
    sesFlipsAt(() => (publishedAt === null ? null : publishedAt + 4 * MINUTE));

    const run = await harness.run({ EmailIdentity: 'Example.COM' }, { sweeper: true });

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
    // Woken by the first sweep after SES's flip, not by its own look a day later.
    expect(awaitOutcomes(run)).toEqual([{ woken_by: 'sweeper', ses_status: 'SUCCESS' }]);
    expect(Date.now() - (publishedAt as number)).toBeLessThanOrEqual(6 * MINUTE);
    expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    // One look at SES: the one the wake-up asked for. The first look trusts CreateEmailIdentity's
    // answer (PENDING), and the sweeper reads ListEmailIdentities.
    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(await harness.registryItem('example.com')).toMatchObject({
      status: 'VERIFIED',
      latest_run: { id: run.name, status: 'VERIFIED' },
    });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('verifies a manual domain at once when a person adds the records at hour 30 and checks', async () => {
    easyDkimCreated();
    route53HasNoZone();
    const addedAt = START.getTime() + 30 * HOUR;
    sesFlipsAt(() => addedAt + MINUTE);
    // The records exist in DNS from hour 30 on; two minutes later the person asks to check now.
    harness
      .at(addedAt, async () => {
        for (const token of TOKENS)
          zone[cnameName(token)] = { CNAME: [`${token}.dkim.amazonses.com`] };
      })
      .catch(() => undefined);
    let checked: { statusCode: number; body: string } | undefined;
    harness
      .at(addedAt + 2 * MINUTE, async () => {
        checked = await checkNow('example.com');
      })
      .catch(() => undefined);

    const run = await harness.run({ EmailIdentity: 'example.com' });

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
    // Its own look at hour 24 found nothing; the check woke it, and it verified then and there.
    expect(awaitOutcomes(run).map((wake) => wake.woken_by ?? wake.Error)).toEqual([
      'States.Timeout',
      'check_now',
    ]);
    expect(Date.now() - (addedAt + 2 * MINUTE)).toBeLessThan(MINUTE);
    expect(checked?.statusCode).toBe(200);
    expect(JSON.parse(checked?.body ?? '{}').data).toMatchObject({
      status: 'PENDING',
      woke_run: true,
    });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('times out at the deadline while waiting, asking SES only at its last look', async () => {
    easyDkimCreated();
    route53HasNoZone();
    sesFlipsAt(() => null);

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(run).toMatchObject({ status: 'FAILED', error: 'TIMED_OUT' });
    expect(detailTypes()).toEqual(['DNS Records Required', 'Email Identity Verification Failed']);
    const failed = terminal().detail as {
      reason: { code: string; retryable: boolean };
      diagnosis: { status: string }[];
    };
    expect(failed.reason).toMatchObject({ code: 'TIMED_OUT', retryable: true });
    expect(failed.diagnosis.map((d) => d.status)).toEqual(['MISSING', 'MISSING', 'MISSING']);
    expect(hoursSinceStart()).toBeGreaterThanOrEqual(72);
    expect(hoursSinceStart()).toBeLessThan(72.1);
    // Nobody woke it: its own looks at 24 and 48 hours (DNS only: the records are missing) and
    // at the deadline.
    expect(awaitOutcomes(run).map((wake) => wake.Error)).toEqual([
      'States.Timeout',
      'States.Timeout',
      'States.Timeout',
    ]);
    // The first look trusts CreateEmailIdentity's PENDING; the looks at 24 and 48 hours probe DNS
    // only; SES is asked once, at the deadline.
    expect(ses.commandCalls(GetEmailIdentityCommand)).toHaveLength(1);
    expect(run.statesEntered.length).toBeLessThanOrEqual(60);
    expect(await harness.registryItem('example.com')).toMatchObject({
      status: 'TIMED_OUT',
      latest_run: { status: 'TIMED_OUT', reason: { code: 'TIMED_OUT', retryable: true } },
    });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('fails with DKIM_FAILED, SES ErrorType and the probe when the sweeper sees SES say FAILED', async () => {
    easyDkimCreated();
    route53HasNoZone();
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: false,
      DkimAttributes: { Status: 'FAILED', Tokens: TOKENS },
      VerificationInfo: { ErrorType: 'HOST_NOT_FOUND', LastCheckedTimestamp: START },
    });
    ses.on(ListEmailIdentitiesCommand).resolves({
      EmailIdentities: [
        {
          IdentityType: 'DOMAIN',
          IdentityName: 'example.com',
          SendingEnabled: false,
          VerificationStatus: 'FAILED',
        },
      ],
    });

    const run = await harness.run({ EmailIdentity: 'example.com' }, { sweeper: true });

    expect(run).toMatchObject({ status: 'FAILED', error: 'DKIM_FAILED' });
    // Woken by the sweep that saw FAILED, long before the deadline.
    expect(hoursSinceStart()).toBeLessThan(1);
    expect(detailTypes()).toEqual(['DNS Records Required', 'Email Identity Verification Failed']);
    expect(terminal().detail).toMatchObject({
      reason: { code: 'DKIM_FAILED' },
      verification_info: { error_type: 'HOST_NOT_FOUND' },
    });
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('puts a throttled CreateEmailIdentity back in the queue and runs it again within seconds', async () => {
    const createdAt: number[] = [];
    ses
      .on(CreateEmailIdentityCommand)
      .rejectsOnce(
        new TooManyRequestsException({ message: 'Maximum sending rate exceeded', $metadata: {} }),
      )
      .callsFake(async () => {
        createdAt.push(Date.now());
        return EASY_DKIM_CREATED;
      });
    route53HasZone();
    sesFlipsAt(() => START.getTime());

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(run.status).toBe('SUCCEEDED');
    expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 2);
    // The run asked once: the worker took the message again, two seconds after the throttle
    // (its visibility shortened), not after the queue's 540-second visibility time-out.
    expect(run.statesEntered.filter((s) => s === 'CreateIdentity')).toHaveLength(1);
    expect(createdAt).toHaveLength(1);
    expect((createdAt[0] ?? Number.NaN) - START.getTime()).toBeLessThan(10_000);
    expect(detailTypes()).toEqual(['DNS Records Published', 'Email Identity Verified']);
  });

  it('fails with SES_ERROR, retryable, once throttling outlasts the queue and the Retry', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(run).toMatchObject({ status: 'FAILED', error: 'SES_ERROR' });
    // Ten deliveries of each message, for the first attempt and each of the eight retries.
    expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 90);
    expect(run.statesEntered.filter((s) => s === 'CreateIdentity')).toHaveLength(1);
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expect(terminal().detail).toMatchObject({ reason: { code: 'SES_ERROR', retryable: true } });
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('fails with VALIDATION_ERROR, listing every problem, without calling SES or the registry', async () => {
    const run = await harness.run({
      EmailIdentity: 'bad..domain',
      Tags: [{ Key: 'aws:team', Value: 'x' }],
      Colour: 'blue',
    });

    expect(run).toMatchObject({ status: 'FAILED', error: 'VALIDATION_ERROR' });
    expect(ses.calls()).toHaveLength(0);
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    const failed = terminal().detail as { reason: { code: string }; details: { field: string }[] };
    expect(failed.reason.code).toBe('VALIDATION_ERROR');
    expect(failed.details.map((d) => d.field)).toEqual(
      expect.arrayContaining(['EmailIdentity', 'Tags[0].Key', 'Colour']),
    );
    // It never held an identity, so it has no registry item to record its end in.
    expect(run.statesEntered).not.toContain('RecordFailure');
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

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(run).toMatchObject({ status: 'FAILED', error: 'CONFLICT' });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expect(await harness.registryItem('example.com')).toMatchObject({ status: 'FAILED' });
  });

  it('fails with DNS_PUBLISH_FAILED when route53 is asked for and no zone matches', async () => {
    easyDkimCreated();
    route53HasNoZone();

    const run = await harness.run({ EmailIdentity: 'example.com', Dns: { Provider: 'route53' } });

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

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(run.status).toBe('SUCCEEDED');
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect(detailTypes()).toEqual(['DNS Records Published', 'Email Identity Verified']);
  });

  it('verifies an address the sweep after its link is followed, with no DNS step', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false });
    const confirmedAt = START.getTime() + 20 * MINUTE;
    sesFlipsAt(() => confirmedAt, 'Ops@example.com');
    ses.on(GetEmailIdentityCommand).callsFake(() => ({
      IdentityType: 'EMAIL_ADDRESS',
      VerifiedForSendingStatus: Date.now() >= confirmedAt,
    }));

    const run = await harness.run({ EmailIdentity: 'Ops@Example.com' }, { sweeper: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).not.toContain('PublishDnsRecords');
    expect(detailTypes()).toEqual(['Email Identity Verified']);
    expect(terminal().detail).toMatchObject({ identity_type: 'EMAIL_ADDRESS', records: [] });
    expect(Date.now()).toBeGreaterThanOrEqual(confirmedAt);
    expect(Date.now() - confirmedAt).toBeLessThanOrEqual(2 * MINUTE);
    expect(route53.calls()).toHaveLength(0);
    expectValidDetail(terminal().detailType, terminal().detail);
  });

  it('moves a run on once when its token is answered twice', async () => {
    easyDkimCreated();
    route53HasZone();
    sesFlipsAt(() => START.getTime() + 30 * MINUTE);
    const { sfnClient } = await import('#shared/aws/clients/sfn.js');
    const answers: string[] = [];
    // At minute 40, with the run asleep: its token, from the registry, sent twice.
    harness
      .at(START.getTime() + 40 * MINUTE, async () => {
        const item = await harness.registryItem('example.com');
        const taskToken = item?.task_token as string;
        for (const _ of [1, 2]) {
          await sfnClient
            .send(new SendTaskSuccessCommand({ taskToken, output: '{"woken_by":"check_now"}' }))
            .then(
              () => answers.push('ok'),
              (error: Error) => answers.push(error.name),
            );
        }
      })
      .catch(() => undefined);

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(answers).toEqual(['ok', TaskTimedOut.name]);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered.filter((s) => s === 'CheckVerification')).toHaveLength(2);
    expect(awaitOutcomes(run)).toEqual([{ woken_by: 'check_now' }]);
  });

  it('wakes a waiting run once when the sweeper and a check-now race for its token', async () => {
    easyDkimCreated();
    route53HasZone();
    sesFlipsAt(() => START.getTime() + 30 * MINUTE);
    const { wake } = await import('#shared/runs/wake-run.js');
    const table = harness.deployment.tables[0]?.name as string;
    let woken: boolean[] = [];
    harness
      .at(START.getTime() + 40 * MINUTE, async () => {
        woken = await Promise.all([
          wake(table, 'example.com', { woken_by: 'sweeper', ses_status: 'SUCCESS' }),
          wake(table, 'example.com', { woken_by: 'check_now', ses_status: null }),
        ]);
      })
      .catch(() => undefined);

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(woken.filter(Boolean)).toHaveLength(1);
    expect(run.status).toBe('SUCCEEDED');
    expect(awaitOutcomes(run)).toHaveLength(1);
  });

  it('costs no SES call when the sweeper finds nothing to wake, and wakes once SES changes', async () => {
    // Nobody waits: not even SES is asked.
    // The drift watch has nothing to watch either: the only identity is held by its run.
    const noDrift = {
      watched: 0,
      probed: 0,
      degraded: 0,
      recovered: 0,
      repaired: 0,
      restarted: 0,
      deferred: 0,
    };
    const idle = await harness.invoke('sweeper', {});
    expect(idle).toEqual({ ses_pages: 0, waiting: 0, woken: 0, drift: noDrift });
    expect(ses.commandCalls(ListEmailIdentitiesCommand)).toHaveLength(0);

    easyDkimCreated();
    route53HasZone();
    let flipped = false;
    sesFlipsAt(() => (flipped ? START.getTime() : null));
    const sweeps: unknown[] = [];
    const sweepAt = (minute: number) =>
      harness
        .at(START.getTime() + minute * MINUTE, async () => {
          sweeps.push(await harness.invoke('sweeper', {}));
        })
        .catch(() => undefined);
    // Two sweeps while SES still says PENDING, then one after it flips.
    sweepAt(10);
    sweepAt(11);
    harness
      .at(START.getTime() + 11.5 * MINUTE, async () => {
        flipped = true;
      })
      .catch(() => undefined);
    sweepAt(12);

    const run = await harness.run({ EmailIdentity: 'example.com' });

    expect(sweeps).toEqual([
      { ses_pages: 1, waiting: 1, woken: 0, drift: noDrift },
      { ses_pages: 1, waiting: 1, woken: 0, drift: noDrift },
      { ses_pages: 1, waiting: 1, woken: 1, drift: noDrift },
    ]);
    expect(run.status).toBe('SUCCEEDED');
    expect(Date.now() - START.getTime()).toBeLessThan(13 * MINUTE);
  });

  it('answers a check-now on an identity with no waiting run, and 404 for an unknown one', async () => {
    easyDkimCreated();
    route53HasZone();
    sesFlipsAt(() => START.getTime());
    await harness.run({ EmailIdentity: 'example.com' });

    const verified = await checkNow('example.com');
    const unknown = await checkNow('unknown.example.com');

    expect(verified.statusCode).toBe(200);
    const data = JSON.parse(verified.body).data as {
      status: string;
      woke_run: boolean;
      records: { status: string }[];
    };
    expect(data).toMatchObject({ status: 'VERIFIED', woke_run: false });
    expect(data.records.map((r) => r.status)).toEqual(['OK', 'OK', 'OK']);
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
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

    const run = await harness.run({
      EmailIdentity: 'example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: secretArn,
      },
    });

    expect(run.statesEntered.slice(0, 8)).toEqual([
      'ReadRequest',
      'ClaimIdentity',
      'ChooseOperation',
      'CreateIdentity',
      'NoteRestart',
      'NeedsSendingSetup',
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

    const run = await harness.run({
      EmailIdentity: 'example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: secretArn,
      },
    });

    expect(run).toMatchObject({ status: 'FAILED', error: 'SES_ERROR' });
    expect(run.statesEntered).toContain('DiscardKeySecretAfterFailure');
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: secretArn });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expect(terminal().detail).toMatchObject({ reason: { code: 'SES_ERROR', retryable: false } });
  });

  it('still emits the failure event when DescribeFailure itself cannot run', async () => {
    const broken: LambdaHandler = async () => {
      throw new TypeError('boom');
    };

    const run = await harness.run(
      { EmailIdentity: 'bad..domain' },
      { overrides: { 'describe-failure': broken } },
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'INTERNAL_ERROR' });
    expect(detailTypes()).toEqual(['Email Identity Verification Failed']);
    expectValidDetail(terminal().detailType, terminal().detail);
  });
});
