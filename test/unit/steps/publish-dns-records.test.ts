import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreatedIdentity, PublishedRecords } from '#shared/workflow/types.js';
import { eventDetailOf } from '#test/support/asl-detail.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import byodkim from '../../../events/publish-dns-records-byodkim.json' with { type: 'json' };
import easyDkim from '../../../events/publish-dns-records-easy-dkim.json' with { type: 'json' };
import emailAddress from '../../../events/publish-dns-records-email-address.json' with {
  type: 'json',
};

// Read at the handler's module scope, so set before it is imported.
vi.hoisted(() => {
  process.env.DNS_RECORD_TTL = '600';
  process.env.DEFAULT_HOSTED_ZONE_ID = '';
});
const { handler } = await import('#steps/publish-dns-records/handler.js');

const context = {
  functionName: 'PublishDnsRecords',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:PublishDnsRecords',
} as Context;
const easy = easyDkim as CreatedIdentity;
const byo = byodkim as CreatedIdentity;

const publicZone = {
  Id: '/hostedzone/ZEXAMPLE',
  Name: 'example.com.',
  CallerReference: 'r',
  Config: { PrivateZone: false },
};

/** The event detail the state machine builds from this step's output. */
// The detail the state machine's notification states build from this step's output.
function detailFor(
  identity: CreatedIdentity,
  out: PublishedRecords,
  state = 'NotifyDnsRecordsPublished',
) {
  return eventDetailOf(state, {
    identity,
    dns: out,
    execution_id: 'run-1',
    restart: null,
    claim: { replicas: { status: 'NOT_REQUESTED', regions: [] }, started_by: 'REQUEST' },
  });
}

describe('PublishDnsRecords handler', () => {
  const route53 = mockClient(Route53Client);
  const zoneRecords = new Map<string, ResourceRecordSet>();

  beforeEach(() => {
    route53.reset();
    zoneRecords.clear();
    route53
      .on(ListHostedZonesByNameCommand)
      .resolves({ HostedZones: [publicZone], IsTruncated: false });
    // A tiny zone: what was UPSERTed is what ListResourceRecordSets returns next time.
    route53.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string }) => {
      const set = zoneRecords.get(input.StartRecordName);
      return { ResourceRecordSets: set ? [set] : [], IsTruncated: false };
    });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .callsFake(
        (input: { ChangeBatch: { Changes: { ResourceRecordSet: ResourceRecordSet }[] } }) => {
          for (const change of input.ChangeBatch.Changes) {
            zoneRecords.set(change.ResourceRecordSet.Name ?? '', change.ResourceRecordSet);
          }
          return { ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } };
        },
      );
  });

  it('publishes Easy DKIM records into the matching zone, with every output field present', async () => {
    const out = await handler(easy, context);

    expect(out).toEqual({
      provider: 'route53',
      provider_reason: expect.stringContaining(
        'no provider requested; zone ZEXAMPLE (example.com) is the longest match',
      ),
      hosted_zone_id: 'ZEXAMPLE',
      hosted_zone_name: 'example.com',
      written: true,
      change_id: 'C1',
      records: expect.any(Array),
      zone_file: expect.any(Array),
      dmarc: null,
    });
    expect(out.records.map((r) => r.ttl)).toEqual([600, 600, 600]);
    expect(out.zone_file).toHaveLength(3);
    expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    expectValidDetail('DNS Records Published', detailFor(easy, out));
  });

  it('changes nothing when run a second time, and says so', async () => {
    await handler(easy, context);
    route53.resetHistory();

    const second = await handler(easy, context);

    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(second).toMatchObject({ written: true, change_id: null, hosted_zone_id: 'ZEXAMPLE' });
    expect(second.provider_reason).toContain('already in zone example.com: nothing written');
  });

  it('publishes a BYODKIM TXT for a subdomain identity into the parent zone', async () => {
    const out = await handler(byo, context);

    expect(out.records).toEqual([
      expect.objectContaining({ type: 'TXT', name: 's2026._domainkey.mail.example.com' }),
    ]);
    expect(out.provider_reason).toContain('the request asked for the route53 provider');
    expect(JSON.stringify(out)).not.toMatch(/PRIVATE KEY/);
    expectValidDetail('DNS Records Published', detailFor(byo, out));
  });

  it('returns the records for manual publishing when no zone holds the domain', async () => {
    const identity = { ...easy, identity: 'example.net' };

    const out = await handler(identity, context);

    expect(out).toMatchObject({
      provider: 'manual',
      provider_reason: expect.stringContaining('no route53 zone holds example.net'),
      hosted_zone_id: null,
      hosted_zone_name: null,
      written: false,
      change_id: null,
    });
    expect(out.zone_file[0]).toMatch(/\._domainkey\.example\.net\. 600 IN CNAME /);
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expectValidDetail('DNS Records Required', detailFor(identity, out, 'NotifyDnsRecordsRequired'));
  });

  it('returns manual, not written, and no records for an email address', async () => {
    const out = await handler(emailAddress as CreatedIdentity, context);

    expect(out).toEqual({
      provider: 'manual',
      provider_reason: expect.any(String),
      hosted_zone_id: null,
      hosted_zone_name: null,
      written: false,
      change_id: null,
      records: [],
      zone_file: [],
      dmarc: null,
    });
    expect(route53).not.toHaveReceivedAnyCommand();
  });

  it('fails with DnsPublishError when route53 is requested and no zone holds the domain', async () => {
    const identity = { ...byo, identity: 'mail.example.net' };
    await expect(handler(identity, context)).rejects.toMatchObject({
      name: 'DnsPublishError',
      message: expect.stringContaining('no route53 zone holds mail.example.net'),
    });
  });

  it('fails with DnsPublishError when SES gave no DKIM tokens', async () => {
    const identity = { ...easy, dkim: easy.dkim && { ...easy.dkim, tokens: [] } };
    await expect(handler(identity, context)).rejects.toMatchObject({
      name: 'DnsPublishError',
      message: expect.stringContaining('SES returned no DKIM tokens'),
    });
  });

  it('rejects an event that is not a CreateIdentity output with ValidationError', async () => {
    const broken = { identity: 'example.com' } as unknown as CreatedIdentity;
    await expect(handler(broken, context)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it("names each broken field of that event in zod's English messages", async () => {
    const broken = { ...easy, identity: '', identity_type: 'X' } as unknown as CreatedIdentity;
    await expect(handler(broken, context)).rejects.toMatchObject({
      name: 'ValidationError',
      details: [
        { field: 'identity', message: 'Too small: expected string to have >=1 characters' },
        {
          field: 'identity_type',
          message: 'Invalid option: expected one of "DOMAIN"|"EMAIL_ADDRESS"',
        },
      ],
    });
  });
});
