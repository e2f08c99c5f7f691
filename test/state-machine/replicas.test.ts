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
  BadRequestException,
  CreateEmailIdentityCommand,
  type CreateEmailIdentityCommandInput,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandInput,
  ListEmailIdentitiesCommand,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

const START = new Date('2026-11-02T09:00:00.000Z');
const MINUTE = 60_000;
const TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];
const HOME = 'us-east-1';

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

/** One SES call as the mock saw it: the Region of the client that made it, and its input. */
interface SesCall {
  region: string;
  at: number;
  input: CreateEmailIdentityCommandInput | GetEmailIdentityCommandInput;
}

const throttled = () =>
  new TooManyRequestsException({ message: 'Too many requests.', $metadata: {} });

describe('VerifyEmailIdentity state machine: DEED replicas', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let harness: StateMachineHarness;
  let emitted: Emitted[];
  let creates: SesCall[];
  let reads: SesCall[];

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    process.env.DNS_RESOLVERS = `127.0.0.1:${dns.port}`;
    process.env.DNS_QUERY_AUTHORITATIVE = 'false';
    process.env.DNS_QUERY_TIMEOUT_MS = '500';
    harness = await StateMachineHarness.start();
    // As a deployment whose ReplicaRegions parameter names these Regions.
    process.env.SES_REPLICA_REGIONS = 'eu-west-1,ap-southeast-2,sa-east-1';
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
    creates = [];
    reads = [];
    await harness.begin(START);
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      for (const entry of input.Entries ?? []) {
        emitted.push({
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}'),
        });
      }
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    route53HasZone();
  });
  afterEach(() => harness.end());

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
      for (const token of TOKENS)
        zone[`${token}._domainkey.example.com`] = { CNAME: [`${token}.dkim.amazonses.com`] };
      return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
    });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  }

  type RegionBehaviour = {
    /** What CreateEmailIdentity does in the Region, call by call (the last one repeats). */
    create: ('pending' | 'throttle' | 'bad-request')[];
    /** Minutes after its creation when the replica reads SUCCESS. */
    verifiesAfterMinutes: number;
  };

  /**
   * SES per Region: the parent (us-east-1) is created PENDING and reads SUCCESS from the
   * start; each replica Region behaves as `regions` says.
   */
  function sesInRegions(regions: Record<string, RegionBehaviour>) {
    const createdAt = new Map<string, number>();
    const createCalls = new Map<string, number>();
    ses.on(CreateEmailIdentityCommand).callsFake(async (input, getClient) => {
      const region = await getClient().config.region();
      creates.push({ region, at: Date.now(), input });
      if (region === HOME) {
        return {
          IdentityType: 'DOMAIN',
          VerifiedForSendingStatus: false,
          DkimAttributes: {
            SigningEnabled: true,
            Status: 'PENDING',
            Tokens: TOKENS,
            SigningAttributesOrigin: 'AWS_SES',
          },
        };
      }
      const behaviour = regions[region];
      if (!behaviour) throw new Error(`no behaviour for ${region}`);
      const call = createCalls.get(region) ?? 0;
      createCalls.set(region, call + 1);
      const action = behaviour.create[Math.min(call, behaviour.create.length - 1)];
      if (action === 'throttle') throw throttled();
      if (action === 'bad-request') {
        throw new BadRequestException({
          message: 'The parent identity is not verified.',
          $metadata: {},
        });
      }
      createdAt.set(region, Date.now());
      return {
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: false,
        DkimAttributes: {
          SigningEnabled: true,
          Status: 'PENDING',
          Tokens: TOKENS,
          SigningAttributesOrigin: 'AWS_SES_US_EAST_1',
        },
      };
    });
    ses.on(GetEmailIdentityCommand).callsFake(async (input, getClient) => {
      const region = await getClient().config.region();
      reads.push({ region, at: Date.now(), input });
      const since = region === HOME ? START.getTime() : createdAt.get(region);
      const behaviour = regions[region];
      const verified =
        region === HOME ||
        (since !== undefined &&
          behaviour !== undefined &&
          Date.now() >= since + behaviour.verifiesAfterMinutes * MINUTE);
      return {
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: verified,
        DkimAttributes: {
          SigningEnabled: true,
          Status: verified ? 'SUCCESS' : 'PENDING',
          Tokens: TOKENS,
          SigningAttributesOrigin: region === HOME ? 'AWS_SES' : 'AWS_SES_US_EAST_1',
        },
      };
    });
    ses.on(ListEmailIdentitiesCommand).resolves({
      EmailIdentities: [
        {
          IdentityType: 'DOMAIN',
          IdentityName: 'example.com',
          SendingEnabled: true,
          VerificationStatus: 'SUCCESS',
        },
      ],
    });
  }

  const replicaCreates = () => creates.filter((call) => call.region !== HOME);
  const readinessOf = (event: Emitted | undefined) =>
    (event?.detail.readiness as { replicas: unknown } | undefined)?.replicas;

  it('creates a replica in each Region once the parent verifies, and is Verified when every one is', async () => {
    sesInRegions({
      'eu-west-1': { create: ['pending'], verifiesAfterMinutes: 1 },
      'ap-southeast-2': { create: ['pending'], verifiesAfterMinutes: 3 },
    });

    const run = await harness.run(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'ap-southeast-2'] },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(emitted.map((e) => e.detailType)).toEqual([
      'DNS Records Published',
      'Email Identity Verified',
    ]);
    // Before the parent verified, every Region waited for it.
    expect(readinessOf(emitted[0])).toEqual({
      status: 'PENDING',
      regions: [
        { region: 'eu-west-1', status: 'PENDING', detail: expect.stringContaining('parent') },
        { region: 'ap-southeast-2', status: 'PENDING', detail: expect.stringContaining('parent') },
      ],
    });
    // One readiness: the parts CheckVerification read, and the replicas beside them.
    expect(Object.keys(emitted[1]?.detail.readiness as object)).toEqual(['dkim', 'replicas']);
    expect(emitted[1]?.detail.readiness).toMatchObject({ dkim: { status: 'READY' } });
    expect(readinessOf(emitted[1])).toEqual({
      status: 'READY',
      regions: [
        { region: 'eu-west-1', status: 'READY', detail: expect.stringContaining('eu-west-1') },
        {
          region: 'ap-southeast-2',
          status: 'READY',
          detail: expect.stringContaining('ap-southeast-2'),
        },
      ],
    });
    // One CreateEmailIdentity per replica Region, in that Region, replicating us-east-1, and
    // only after the parent was seen verified.
    expect(replicaCreates().map((call) => [call.region, call.input])).toEqual(
      expect.arrayContaining([
        [
          'eu-west-1',
          {
            EmailIdentity: 'example.com',
            DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_US_EAST_1' },
          },
        ],
        [
          'ap-southeast-2',
          {
            EmailIdentity: 'example.com',
            DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_US_EAST_1' },
          },
        ],
      ]),
    );
    expect(replicaCreates()).toHaveLength(2);
    const parentVerifiedAt = Math.min(
      ...reads.filter((call) => call.region === HOME).map((call) => call.at),
    );
    for (const call of replicaCreates()) expect(call.at).toBeGreaterThanOrEqual(parentVerifiedAt);
    // Each replica was read in its own Region until SES there said SUCCESS.
    expect(new Set(reads.map((call) => call.region))).toEqual(
      new Set([HOME, 'eu-west-1', 'ap-southeast-2']),
    );
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('retries a replica Region that throttles, with back-off, and still verifies', async () => {
    sesInRegions({
      'eu-west-1': { create: ['pending'], verifiesAfterMinutes: 1 },
      'ap-southeast-2': {
        create: ['throttle', 'throttle', 'throttle', 'pending'],
        verifiesAfterMinutes: 1,
      },
    });

    const run = await harness.run(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'ap-southeast-2'] },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(emitted.at(-1)?.detailType).toBe('Email Identity Verified');
    expect(readinessOf(emitted.at(-1))).toMatchObject({ status: 'READY' });
    const sydney = replicaCreates().filter((call) => call.region === 'ap-southeast-2');
    expect(sydney).toHaveLength(4);
    // Backed off: each try waited longer than the one before.
    const gaps = sydney.slice(1).map((call, i) => call.at - (sydney[i] as SesCall).at);
    for (let i = 1; i < gaps.length; i += 1) {
      expect(gaps[i]).toBeGreaterThan(gaps[i - 1] as number);
    }
    // Ireland's replica did not wait behind Sydney's throttling: its own lane, its own budget.
    expect(replicaCreates().filter((call) => call.region === 'eu-west-1')).toHaveLength(1);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('fails the run naming the Region SES refused, and why, while the others verify', async () => {
    sesInRegions({
      'eu-west-1': { create: ['pending'], verifiesAfterMinutes: 1 },
      'sa-east-1': { create: ['bad-request'], verifiesAfterMinutes: 1 },
    });

    const run = await harness.run(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1', 'sa-east-1'] },
      { sweeper: true },
    );

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SES_ERROR');
    const failed = emitted.at(-1) as Emitted;
    expect(failed.detailType).toBe('Email Identity Verification Failed');
    expect(failed.detail.reason).toEqual({
      code: 'SES_ERROR',
      message: expect.stringMatching(
        /sa-east-1.*BadRequestException.*parent identity is not verified/,
      ),
      retryable: false,
    });
    expect((failed.detail.reason as { message: string }).message).not.toMatch(/eu-west-1:/);
    // The parent's parts stay in the failure's readiness, beside the replicas.
    expect(failed.detail.readiness).toMatchObject({ dkim: { status: 'READY' } });
    expect(readinessOf(failed)).toEqual({
      status: 'FAILED',
      regions: [
        { region: 'eu-west-1', status: 'READY', detail: expect.any(String) },
        {
          region: 'sa-east-1',
          status: 'FAILED',
          detail: expect.stringContaining('SES in sa-east-1 refused CreateEmailIdentity'),
        },
      ],
    });
    expect(await harness.registryItem('example.com')).toMatchObject({ status: 'FAILED' });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it('fails a Region whose throttling outlasts every retry, as retryable', async () => {
    sesInRegions({ 'eu-west-1': { create: ['throttle'], verifiesAfterMinutes: 1 } });

    const run = await harness.run(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1'] },
      { sweeper: true },
    );

    expect(run.status).toBe('FAILED');
    const failed = emitted.at(-1) as Emitted;
    expect(failed.detail.reason).toMatchObject({ code: 'SES_ERROR', retryable: true });
    expect(readinessOf(failed)).toEqual({
      status: 'FAILED',
      regions: [
        {
          region: 'eu-west-1',
          status: 'FAILED',
          detail: expect.stringContaining('ThrottlingError'),
        },
      ],
    });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });

  it("keeps the replicas PENDING beside the parts in a check's failure, when the parent never verifies", async () => {
    sesInRegions({ 'eu-west-1': { create: ['pending'], verifiesAfterMinutes: 1 } });
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: false,
      DkimAttributes: {
        SigningEnabled: true,
        Status: 'FAILED',
        Tokens: TOKENS,
        SigningAttributesOrigin: 'AWS_SES',
      },
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

    const run = await harness.run(
      { EmailIdentity: 'example.com', Replicas: ['eu-west-1'] },
      { sweeper: true },
    );

    expect(run.status).toBe('FAILED');
    const failed = emitted.at(-1) as Emitted;
    expect(failed.detailType).toBe('Email Identity Verification Failed');
    expect(failed.detail.reason).toMatchObject({ code: 'DKIM_FAILED' });
    // One readiness: the parts at the last look, and the replicas, never created, beside them.
    expect(failed.detail.readiness).toMatchObject({ dkim: { status: 'FAILED' } });
    expect(readinessOf(failed)).toEqual({
      status: 'PENDING',
      regions: [
        { region: 'eu-west-1', status: 'PENDING', detail: expect.stringContaining('parent') },
      ],
    });
    expect(replicaCreates()).toEqual([]);
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });
});
