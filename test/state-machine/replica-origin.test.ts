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
  CreateEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

const START = new Date('2026-11-02T09:00:00.000Z');
const MINUTE = 60_000;
// The parent's tokens, in eu-west-1: SES reports them for the replica too.
const PARENT_TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

describe('VerifyEmailIdentity state machine: a request with DomainSigningAttributesOrigin', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let harness: StateMachineHarness;
  let emitted: Emitted[];
  let createRegions: string[];

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
    createRegions = [];
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
    route53.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() },
    });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    // The parent's CNAMEs are in DNS already: they verified the parent in eu-west-1.
    for (const token of PARENT_TOKENS) {
      zone[`${token}._domainkey.example.com`] = {
        CNAME: [`${token}.dkim.eu-west-1.amazonses.com`],
      };
    }
  });
  afterEach(() => harness.end());

  /** SES here: the replica is created PENDING and reads SUCCESS two minutes later. */
  function sesReplicatesFromEuWest1() {
    const replica = (verified: boolean) => ({
      IdentityType: 'DOMAIN' as const,
      VerifiedForSendingStatus: verified,
      DkimAttributes: {
        SigningEnabled: true,
        Status: verified ? ('SUCCESS' as const) : ('PENDING' as const),
        Tokens: PARENT_TOKENS,
        SigningAttributesOrigin: 'AWS_SES_EU_WEST_1' as const,
        SigningHostedZone: 'dkim.eu-west-1.amazonses.com',
      },
    });
    ses.on(CreateEmailIdentityCommand).callsFake(async (_input, getClient) => {
      createRegions.push(await getClient().config.region());
      return replica(false);
    });
    const verified = () => Date.now() >= START.getTime() + 2 * MINUTE;
    ses.on(GetEmailIdentityCommand).callsFake(async () => replica(verified()));
    ses.on(ListEmailIdentitiesCommand).callsFake(async () => ({
      EmailIdentities: [
        {
          IdentityType: 'DOMAIN',
          IdentityName: 'example.com',
          SendingEnabled: true,
          VerificationStatus: verified() ? 'SUCCESS' : 'PENDING',
        },
      ],
    }));
  }

  it('publishes no DKIM records and is Verified once SES reports the replica SUCCESS', async () => {
    sesReplicatesFromEuWest1();

    const run = await harness.run(
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
      },
      { sweeper: true },
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(emitted.map((e) => e.detailType)).toEqual([
      'DNS Records Published',
      'Email Identity Verified',
    ]);
    for (const event of emitted) expectValidDetail(event.detailType, event.detail);
    // Created here, in the stack's Region, naming the parent's.
    expect(createRegions).toEqual(['us-east-1']);
    expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
    });
    // Nothing written to Route 53, and no DKIM record in either event.
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(emitted[0]?.detail).toMatchObject({ records: [], zone_file: [] });
    expect(emitted[1]?.detail.readiness).toMatchObject({ dkim: { records: [] } });
    expect(emitted[1]?.detail.readiness).toMatchObject({
      dkim: { status: 'READY', ses_status: 'SUCCESS' },
    });
    expect(emitted[1]?.detail).toMatchObject({ dkim: { parent_region: 'eu-west-1', tokens: [] } });
    // Two looks: the first, then the one the sweeper woke when SES's status changed.
    expect(emitted[1]?.detail.checks).toBe(2);
  });
});
