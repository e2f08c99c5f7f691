import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  BadRequestException,
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  NotFoundException,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { StateMachineHarness } from './harness.js';

// Offboarding runs the real ASL's DeleteIdentity branch: created and verified first (so the
// registry knows where the records went), then deleted.
const START = new Date('2026-11-02T09:00:00.000Z');
const DOMAIN = 'leaving.example.com';
const TOKENS = [
  'aaaabbbbccccddddeeeeffffgggghhhh',
  'iiiijjjjkkkkllllmmmmnnnnoooopppp',
  'qqqqrrrrssssttttuuuuvvvvwwwwxxxx',
];
const deleteRequest = {
  Operation: 'DeleteIdentity',
  EmailIdentity: DOMAIN,
  Unmanaged: false,
  StoppedRun: null,
  KeySecretArn: null,
};

interface Emitted {
  detailType: string;
  detail: Record<string, unknown>;
}

describe('offboarding (the DeleteIdentity branch)', () => {
  const ses = mockClient(SESv2Client);
  const route53 = mockClient(Route53Client);
  const eventBridge = mockClient(EventBridgeClient);
  const zone: Record<string, ZoneData> = {};
  /** What the Route 53 zone holds: record sets by `name type`. */
  const sets = new Map<string, ResourceRecordSet>();
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
    sets.clear();
    for (const name of Object.keys(zone)) delete zone[name];
    emitted = [];
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
    route53Zone();
    sesVerifiesOnceCreated();
  });
  afterEach(() => harness.end());

  /** Route 53 with one zone, example.com, whose record sets change as batches say. */
  function route53Zone() {
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
    route53.on(ListResourceRecordSetsCommand).callsFake((input) => {
      const set = sets.get(`${input.StartRecordName} ${input.StartRecordType}`);
      return { ResourceRecordSets: set ? [set] : [], IsTruncated: false, MaxItems: 1 };
    });
    route53.on(ChangeResourceRecordSetsCommand).callsFake((input) => {
      for (const change of (input.ChangeBatch?.Changes ?? []) as Change[]) {
        const set = change.ResourceRecordSet as ResourceRecordSet;
        const key = `${set.Name?.endsWith('.') ? set.Name : `${set.Name}.`} ${set.Type}`;
        const name = (set.Name ?? '').replace(/\.$/, '');
        if (change.Action === 'DELETE') {
          sets.delete(key);
          delete zone[name];
        } else {
          sets.set(key, { ...set, Name: key.split(' ')[0] });
          zone[name] = { CNAME: (set.ResourceRecords ?? []).map((r) => r.Value ?? '') };
        }
      }
      return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
    });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  }

  /** SES: created with TOKENS, SUCCESS as soon as asked, gone once deleted. */
  function sesVerifiesOnceCreated() {
    let exists = false;
    const answer = {
      IdentityType: 'DOMAIN' as const,
      VerifiedForSendingStatus: true,
      DkimAttributes: {
        Status: 'SUCCESS' as const,
        Tokens: TOKENS,
        SigningAttributesOrigin: 'AWS_SES' as const,
      },
    };
    ses.on(CreateEmailIdentityCommand).callsFake(() => {
      exists = true;
      return { ...answer, DkimAttributes: { ...answer.DkimAttributes, Status: 'PENDING' } };
    });
    ses.on(GetEmailIdentityCommand).callsFake(() => {
      if (!exists) throw new NotFoundException({ message: 'not found', $metadata: {} });
      return answer;
    });
    ses.on(ListEmailIdentitiesCommand).callsFake(() => ({
      EmailIdentities: exists
        ? [
            {
              IdentityType: 'DOMAIN',
              IdentityName: DOMAIN,
              SendingEnabled: true,
              VerificationStatus: 'SUCCESS',
            },
          ]
        : [],
    }));
    ses.on(DeleteEmailIdentityCommand).callsFake(() => {
      if (!exists) throw new NotFoundException({ message: 'not found', $metadata: {} });
      exists = false;
      return {};
    });
  }

  it('deletes the SES identity, exactly the records the stack published and the registry item', async () => {
    const created = await harness.run({ EmailIdentity: DOMAIN }, { sweeper: true });
    expect(created.status).toBe('SUCCEEDED');
    expect(sets.size).toBe(3);
    // A record the stack did not publish, under the same domain: it stays.
    sets.set(`other._domainkey.${DOMAIN}. TXT`, {
      Name: `other._domainkey.${DOMAIN}.`,
      Type: 'TXT',
      TTL: 300,
      ResourceRecords: [{ Value: '"v=DKIM1; p=x"' }],
    });
    emitted = [];

    const run = await harness.run(deleteRequest);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).toEqual([
      'ReadRequest',
      'ClaimIdentity',
      'ChooseOperation',
      'DeleteIdentity',
      'RemovePublishedRecords',
      'DiscardStoppedRunKeySecret',
      'ForgetIdentity',
      'NotifyIdentityDeleted',
      'IdentityDeleted',
    ]);
    expect(emitted.map((e) => e.detailType)).toEqual(['Email Identity Deleted']);
    const detail = emitted[0]?.detail as { dns: { removed_records: { name: string }[] } };
    expect(detail).toMatchObject({
      identity: DOMAIN,
      execution_id: run.name,
      ses_identity_deleted: true,
      unmanaged: false,
      stopped_run: null,
      key_secret_deleted: null,
      dns: { provider: 'route53', hosted_zone_id: 'Z0EXAMPLE', records_to_remove_by_hand: [] },
    });
    expect(detail.dns.removed_records.map((r) => r.name).sort()).toEqual(
      TOKENS.map((t) => `${t}._domainkey.${DOMAIN}`).sort(),
    );
    expect([...sets.keys()]).toEqual([`other._domainkey.${DOMAIN}. TXT`]);
    expect(ses).toHaveReceivedCommandWith(DeleteEmailIdentityCommand, { EmailIdentity: DOMAIN });
    expect(await harness.registryItem(DOMAIN)).toBeUndefined();
    expectValidDetail('Email Identity Deleted', emitted[0]?.detail);
  });

  it('counts an identity SES no longer has as deleted', async () => {
    const run = await harness.run({ ...deleteRequest, Unmanaged: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(emitted[0]?.detail).toMatchObject({
      ses_identity_deleted: false,
      unmanaged: true,
      dns: { provider: null, removed_records: [], records_to_remove_by_hand: [] },
    });
    expectValidDetail('Email Identity Deleted', emitted[0]?.detail);
  });

  it('ends in the failure event, keeping the registry item, when SES refuses the delete', async () => {
    await harness.run({ EmailIdentity: DOMAIN }, { sweeper: true });
    emitted = [];
    ses
      .on(DeleteEmailIdentityCommand)
      .rejects(new BadRequestException({ message: 'replicas exist', $metadata: {} }));

    const run = await harness.run(deleteRequest);

    expect(run.status).toBe('FAILED');
    expect(run.statesEntered).not.toContain('RemovePublishedRecords');
    expect(emitted.map((e) => e.detailType)).toEqual(['Email Identity Verification Failed']);
    expect(emitted[0]?.detail).toMatchObject({
      identity: DOMAIN,
      reason: {
        code: 'SES_ERROR',
        message: expect.stringContaining('DeleteEmailIdentity'),
        retryable: false,
      },
    });
    expect(sets.size).toBe(3);
    expect(await harness.registryItem(DOMAIN)).toMatchObject({
      status: 'FAILED',
      latest_run: { id: run.name, operation: 'DeleteIdentity', status: 'FAILED' },
    });
    expectValidDetail(emitted[0]?.detailType ?? '', emitted[0]?.detail);
  });
});
