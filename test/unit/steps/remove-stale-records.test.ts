import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Route53DnsProvider } from '#shared/dns/route53-provider.js';
import type { CreatedIdentity, PublishedRecords } from '#shared/workflow/types.js';
import { removeStaleRecords } from '#steps/remove-stale-records/remove-stale-records.js';
import { easyDkimIdentity } from '#test/support/fixtures.js';

const STALE_TXT = { type: 'TXT', name: 'tenant1._domainkey.example.com' } as const;

function changedIdentity(stale: { type: 'CNAME' | 'TXT'; name: string }[]): CreatedIdentity {
  const none = { origin: null, selector: null, tokens: [], signing_key_length: null };
  return {
    ...easyDkimIdentity(new Date('2026-11-23T00:00:00Z')),
    change: { kind: 'BYODKIM_TO_EASY_DKIM', from: none, to: none, stale_records: stale },
  };
}

function published(provider: 'route53' | 'manual'): PublishedRecords {
  return {
    provider,
    provider_reason: 'test',
    hosted_zone_id: provider === 'route53' ? 'Z0EXAMPLE' : null,
    hosted_zone_name: provider === 'route53' ? 'example.com' : null,
    written: provider === 'route53',
    change_id: null,
    records: [],
    zone_file: [],
  };
}

describe('removeStaleRecords', () => {
  const route53 = mockClient(Route53Client);
  const providers = [new Route53DnsProvider({ sleep: async () => undefined })];

  beforeEach(() => {
    route53.reset();
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'tenant1._domainkey.example.com.',
          Type: 'TXT',
          TTL: 1800,
          ResourceRecords: [{ Value: '"v=DKIM1; k=rsa; p=OLD"' }],
        },
      ],
      IsTruncated: false,
      MaxItems: 1,
    });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'INSYNC', SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'INSYNC', SubmittedAt: new Date() } });
  });

  it('deletes the old selector TXT from Route 53 with the value Route 53 holds', async () => {
    const result = await removeStaleRecords(
      { identity: changedIdentity([STALE_TXT]), dns: published('route53') },
      providers,
    );

    expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
      HostedZoneId: 'Z0EXAMPLE',
      ChangeBatch: expect.objectContaining({
        Changes: [
          {
            Action: 'DELETE',
            ResourceRecordSet: expect.objectContaining({
              Name: 'tenant1._domainkey.example.com.',
              Type: 'TXT',
              ResourceRecords: [{ Value: '"v=DKIM1; k=rsa; p=OLD"' }],
            }),
          },
        ],
      }),
    });
    expect(result).toMatchObject({
      provider: 'route53',
      removed_records: [STALE_TXT],
      remaining_stale_records: [],
    });
  });

  it('reports as removed only the stale records Route 53 had', async () => {
    const staleCname = { type: 'CNAME', name: 'old1._domainkey.example.com' } as const;

    const result = await removeStaleRecords(
      { identity: changedIdentity([STALE_TXT, staleCname]), dns: published('route53') },
      providers,
    );

    expect(result.removed_records).toEqual([STALE_TXT]);
  });

  it('deletes nothing and lists the records for a person when the provider is manual', async () => {
    const result = await removeStaleRecords(
      { identity: changedIdentity([STALE_TXT]), dns: published('manual') },
      providers,
    );

    expect(route53.calls()).toHaveLength(0);
    expect(result).toMatchObject({
      provider: 'manual',
      removed_records: [],
      remaining_stale_records: [STALE_TXT],
    });
    expect(result.detail).toContain('by hand');
  });

  it('reports nothing removed when the records are already gone', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 1 });

    const result = await removeStaleRecords(
      { identity: changedIdentity([STALE_TXT]), dns: published('route53') },
      providers,
    );

    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.removed_records).toEqual([]);
  });

  it('does nothing when the change left no stale records', async () => {
    const result = await removeStaleRecords(
      { identity: changedIdentity([]), dns: published('route53') },
      providers,
    );
    expect(route53.calls()).toHaveLength(0);
    expect(result.removed_records).toEqual([]);
  });
});
