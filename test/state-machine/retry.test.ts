import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import { ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

// A new run for an identity whose run timed out or failed: SES's verification starts again (SES
// documents no call that restarts it, only starting from the beginning), and the run verifies.
const START = new Date('2026-11-02T09:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3600_000;
const OLD_TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];
const NEW_TOKENS = [
  'yyyyzzzz22223333444455556666777a',
  'bbbbccccddddeeeeffffgggghhhhiiii',
  'jjjjkkkkllllmmmmnnnnoooopppprrrr',
];
const DOMAIN = 'late.example.com';

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

describe('a new run after a timed-out or failed one', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  let dns: TestDnsServer;
  let harness: StateMachineHarness;
  let emitted: Emitted[];
  /** Called with each event as EventBridge accepts it: a person acting on what they read. */
  let onEvent: (event: Emitted) => void;

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
    onEvent = () => undefined;
    await harness.begin(START);
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      for (const entry of input.Entries ?? []) {
        const event = {
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}'),
        };
        emitted.push(event);
        onEvent(event);
      }
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: 'e' })) };
    });
    route53
      .on(ListHostedZonesByNameCommand)
      .resolves({ HostedZones: [], IsTruncated: false, MaxItems: 100 });
  });
  afterEach(() => harness.end());

  const addCnames = (tokens: string[]) => {
    for (const token of tokens) {
      zone[`${token}._domainkey.${DOMAIN}`] = { CNAME: [`${token}.dkim.amazonses.com`] };
    }
  };
  const cnamesIn = (tokens: string[]) =>
    tokens.every((token) => zone[`${token}._domainkey.${DOMAIN}`] !== undefined);

  /**
   * SES as it behaves for one Easy DKIM domain: created once with OLD_TOKENS, PENDING, FAILED
   * after 72 hours without its records; deleted and created again with NEW_TOKENS, SUCCESS a
   * minute after its records are in DNS.
   */
  function sesForOneDomain() {
    let identity: { tokens: string[]; createdAt: number; seenAt: number | null } | null = null;
    const status = () => {
      if (identity === null) return null;
      if (identity.seenAt === null && cnamesIn(identity.tokens)) identity.seenAt = Date.now();
      if (identity.seenAt !== null && Date.now() >= identity.seenAt + MINUTE) return 'SUCCESS';
      return Date.now() >= identity.createdAt + 72 * HOUR ? 'FAILED' : 'PENDING';
    };
    const answer = () => ({
      IdentityType: 'DOMAIN' as const,
      VerifiedForSendingStatus: status() === 'SUCCESS',
      DkimAttributes: {
        SigningEnabled: true,
        Status: status() as 'PENDING',
        Tokens: identity?.tokens,
        SigningAttributesOrigin: 'AWS_SES' as const,
        CurrentSigningKeyLength: 'RSA_2048_BIT' as const,
        NextSigningKeyLength: 'RSA_2048_BIT' as const,
      },
      Policies: {},
      Tags: [],
    });
    let creations = 0;
    ses.on(CreateEmailIdentityCommand).callsFake(() => {
      if (identity !== null) {
        throw new AlreadyExistsException({ message: 'already exists', $metadata: {} });
      }
      identity = {
        tokens: creations++ === 0 ? OLD_TOKENS : NEW_TOKENS,
        createdAt: Date.now(),
        seenAt: null,
      };
      return answer();
    });
    ses.on(DeleteEmailIdentityCommand).callsFake(() => {
      identity = null;
      return {};
    });
    ses.on(GetEmailIdentityCommand).callsFake(() => answer());
    ses.on(ListEmailIdentitiesCommand).callsFake(() => ({
      EmailIdentities:
        identity === null
          ? []
          : [
              {
                IdentityType: 'DOMAIN',
                IdentityName: DOMAIN,
                SendingEnabled: status() === 'SUCCESS',
                VerificationStatus: status() as 'PENDING',
              },
            ],
    }));
  }

  it('verifies a manual domain that timed out once its records are added and it is asked again', async () => {
    sesForOneDomain();
    const request = { EmailIdentity: DOMAIN, Dns: { Provider: 'manual' } };

    // Nobody wakes the first run: no records, so only its own looks and its deadline.
    const first = await harness.run(request);
    expect(first).toMatchObject({ status: 'FAILED', error: 'TIMED_OUT' });
    // The person adds the records the failure listed, and asks again;
    // whatever the new run asks for, they add too.
    addCnames(OLD_TOKENS);
    onEvent = (event) => {
      if (event.detailType === 'DNS Records Required') {
        addCnames(
          (event.detail.records as { name: string }[]).map((r) => r.name.split('.')[0] as string),
        );
      }
    };
    emitted = [];
    const second = await harness.run(request, { sweeper: true });

    expect(second.status).toBe('SUCCEEDED');
    expect(emitted.map((e) => e.detailType)).toEqual([
      'DNS Records Required',
      'Email Identity Verified',
    ]);
    const restart = { method: 'RECREATED', reason: expect.stringContaining('FAILED') };
    expect(emitted[0]?.detail).toMatchObject({
      restart,
      dkim: expect.objectContaining({ tokens: NEW_TOKENS }),
    });
    expect(emitted[1]?.detail).toMatchObject({ restart, dkim_status: 'SUCCESS' });
    expect(ses).toHaveReceivedCommandTimes(DeleteEmailIdentityCommand, 1);
    expect(await harness.registryItem(DOMAIN)).toMatchObject({
      status: 'VERIFIED',
      latest_run: { id: second.name, status: 'VERIFIED' },
    });
    for (const e of emitted) expectValidDetail(e.detailType, e.detail);
  });
});
