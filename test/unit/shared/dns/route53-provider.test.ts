import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  InvalidChangeBatch,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  type ResourceRecordSet,
  Route53Client,
  Route53ServiceException,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dkimRecordsFor, recordData } from '#shared/dns/records.js';
import { Route53DnsProvider } from '#shared/dns/route53-provider.js';
import { parseTxtStrings } from '#shared/dns/route53-record-sets.js';
import {
  DnsChangePendingError,
  DnsPublishError,
  ServiceUnavailableError,
  ThrottlingError,
} from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import byodkim from '../../../../events/publish-dns-records-byodkim.json' with { type: 'json' };
import easyDkim from '../../../../events/publish-dns-records-easy-dkim.json' with { type: 'json' };

const easyRecords = dkimRecordsFor(easyDkim as CreatedIdentity);
const byoRecords = dkimRecordsFor(byodkim as CreatedIdentity);
const zone = { id: 'Z1EXAMPLE', name: 'example.com' };

function hostedZone(id: string, name: string, isPrivate = false) {
  return {
    Id: `/hostedzone/${id}`,
    Name: `${name}.`,
    CallerReference: id,
    Config: { PrivateZone: isPrivate },
  };
}

function serviceError(name: string, httpStatusCode = 400) {
  return new Route53ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: `${name} happened`,
  });
}

/** What Route 53 would return for a record set we wrote. */
function existingSet(record: (typeof easyRecords)[number], ttl = record.ttl): ResourceRecordSet {
  return {
    Name: `${record.name}.`,
    Type: record.type,
    TTL: ttl,
    ResourceRecords: [{ Value: recordData(record) }],
  };
}

describe('Route53DnsProvider', () => {
  const route53 = mockClient(Route53Client);
  const sleeps: number[] = [];
  const provider = (options: { changeWaitMs?: number } = {}) =>
    new Route53DnsProvider({
      client: new Route53Client({}),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    });

  beforeEach(() => {
    route53.reset();
    sleeps.length = 0;
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [],
      IsTruncated: false,
      MaxItems: 1,
    });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
  });

  describe('findZone', () => {
    const zones = [
      hostedZone('ZCOM', 'com'),
      hostedZone('ZEXAMPLE', 'example.com'),
      hostedZone('ZPRIVATE', 'mail.example.com', true),
      hostedZone('ZBAD', 'badexample.com'),
      hostedZone('ZSHOP', 'shop.example.com'),
    ];

    it.each([
      ['the apex', 'example.com', 'ZEXAMPLE', 'example.com'],
      ['a subdomain identity', 'news.example.com', 'ZEXAMPLE', 'example.com'],
      ['the longest of several candidates', 'eu.shop.example.com', 'ZSHOP', 'shop.example.com'],
      [
        'a public parent when the closer zone is private',
        'mail.example.com',
        'ZEXAMPLE',
        'example.com',
      ],
      [
        'a domain given with a trailing dot and upper case',
        'Shop.Example.COM.',
        'ZSHOP',
        'shop.example.com',
      ],
    ])('matches %s', async (_case, domain, id, name) => {
      route53.on(ListHostedZonesByNameCommand).resolves({ HostedZones: zones, IsTruncated: false });
      await expect(provider().findZone(domain, null)).resolves.toEqual({ id, name });
    });

    it('returns null when no public zone holds the domain', async () => {
      route53.on(ListHostedZonesByNameCommand).resolves({ HostedZones: zones, IsTruncated: false });
      await expect(provider().findZone('example.org', null)).resolves.toBeNull();
    });

    it('follows every page of ListHostedZonesByName', async () => {
      route53
        .on(ListHostedZonesByNameCommand)
        .resolvesOnce({
          HostedZones: [hostedZone('ZCOM', 'com')],
          IsTruncated: true,
          NextDNSName: 'example.com.',
          NextHostedZoneId: 'ZEXAMPLE',
        })
        .resolvesOnce({ HostedZones: [hostedZone('ZEXAMPLE', 'example.com')], IsTruncated: false });

      await expect(provider().findZone('mail.example.com', null)).resolves.toEqual({
        id: 'ZEXAMPLE',
        name: 'example.com',
      });
      expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByNameCommand, 2);
      expect(route53).toHaveReceivedNthCommandWith(ListHostedZonesByNameCommand, 2, {
        DNSName: 'example.com.',
        HostedZoneId: 'ZEXAMPLE',
      });
    });

    it('refuses to guess between two public zones with the same name', async () => {
      route53.on(ListHostedZonesByNameCommand).resolves({
        HostedZones: [hostedZone('ZONE1', 'example.com'), hostedZone('ZONE2', 'example.com')],
        IsTruncated: false,
      });
      await expect(provider().findZone('example.com', null)).rejects.toThrow(
        /Several public hosted zones are named example\.com \(ZONE1, ZONE2\)/,
      );
    });

    it('takes an explicit zone that holds the domain', async () => {
      route53
        .on(GetHostedZoneCommand)
        .resolves({ HostedZone: hostedZone('ZEXAMPLE', 'example.com'), DelegationSet: undefined });
      await expect(
        provider().findZone('mail.example.com', '/hostedzone/ZEXAMPLE'),
      ).resolves.toEqual({ id: 'ZEXAMPLE', name: 'example.com' });
      expect(route53).toHaveReceivedCommandWith(GetHostedZoneCommand, { Id: 'ZEXAMPLE' });
      expect(route53).not.toHaveReceivedCommand(ListHostedZonesByNameCommand);
    });

    it.each([
      ['does not hold the domain', hostedZone('ZORG', 'example.org'), /does not hold example\.com/],
      ['is private', hostedZone('ZPRIV', 'example.com', true), /is private/],
    ])('rejects an explicit zone that %s', async (_case, hz, message) => {
      route53.on(GetHostedZoneCommand).resolves({ HostedZone: hz });
      const attempt = provider().findZone('example.com', 'ZX');
      await expect(attempt).rejects.toBeInstanceOf(DnsPublishError);
      await expect(attempt).rejects.toThrow(message);
    });

    it('fails with DnsPublishError when the explicit zone does not exist', async () => {
      route53
        .on(GetHostedZoneCommand)
        .rejects(new NoSuchHostedZone({ message: 'No hosted zone found', $metadata: {} }));
      await expect(provider().findZone('example.com', 'ZNONE')).rejects.toBeInstanceOf(
        DnsPublishError,
      );
    });
  });

  describe('publish', () => {
    it('UPSERTs the three Easy DKIM CNAMEs in one batch, targets with a trailing dot', async () => {
      const outcome = await provider().publish(easyRecords, zone);

      expect(outcome).toMatchObject({ written: true, changeId: 'C1' });
      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        HostedZoneId: 'Z1EXAMPLE',
        ChangeBatch: {
          Comment: 'Publish DKIM records',
          Changes: easyRecords.map((record) => ({
            Action: 'UPSERT' as const,
            ResourceRecordSet: {
              Name: `${record.name}.`,
              Type: 'CNAME' as const,
              TTL: 1800,
              ResourceRecords: [{ Value: `${record.value}.` }],
            },
          })),
        },
      });
    });

    it('UPSERTs a BYODKIM TXT as quoted strings in one ResourceRecord', async () => {
      await provider().publish(byoRecords, zone);
      const [record] = byoRecords;
      const [first, second] = record?.strings ?? [];
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        ChangeBatch: {
          Comment: 'Publish DKIM records',
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 's2026._domainkey.mail.example.com.',
                Type: 'TXT',
                TTL: 1800,
                ResourceRecords: [{ Value: `"${first}" "${second}"` }],
              },
            },
          ],
        },
      });
    });

    it('reads each record set before writing', async () => {
      await provider().publish(easyRecords, zone);
      expect(route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 3);
      expect(route53).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, {
        HostedZoneId: 'Z1EXAMPLE',
        StartRecordName: `${easyRecords[0]?.name}.`,
        StartRecordType: 'CNAME',
        MaxItems: 1,
      });
    });

    it('waits for INSYNC with GetChange, backing off between polls', async () => {
      route53
        .on(ChangeResourceRecordSetsCommand)
        .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() } });
      route53
        .on(GetChangeCommand)
        .resolvesOnce({
          ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() },
        })
        .resolvesOnce({
          ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() },
        })
        .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'INSYNC', SubmittedAt: new Date() } });

      const outcome = await provider().publish(easyRecords, zone);

      expect(outcome).toMatchObject({ written: true, changeId: 'C2' });
      expect(route53).toHaveReceivedCommandTimes(GetChangeCommand, 3);
      expect(route53).toHaveReceivedCommandWith(GetChangeCommand, { Id: 'C2' });
      expect(sleeps).toEqual([1000, 2000, 4000]);
    });

    it('fails with DnsChangePendingError when the change is not INSYNC within the bound', async () => {
      route53
        .on(ChangeResourceRecordSetsCommand)
        .resolves({ ChangeInfo: { Id: '/change/C3', Status: 'PENDING', SubmittedAt: new Date() } });
      route53
        .on(GetChangeCommand)
        .resolves({ ChangeInfo: { Id: '/change/C3', Status: 'PENDING', SubmittedAt: new Date() } });

      const attempt = provider({ changeWaitMs: 20_000 }).publish(easyRecords, zone);

      await expect(attempt).rejects.toBeInstanceOf(DnsChangePendingError);
      await expect(attempt).rejects.toThrow(/C3 is still PENDING/);
      // 1 + 2 + 4 + 8 s, then what is left of the 20 s bound.
      expect(sleeps).toEqual([1000, 2000, 4000, 8000, 5000]);
      expect(route53).toHaveReceivedCommandTimes(GetChangeCommand, 5);
    });

    it.each(['Throttling', 'PriorRequestNotComplete'])(
      'leaves %s to the state machine: one call, no in-process retry, a ThrottlingError',
      async (name) => {
        const throttled = serviceError(name);
        route53.on(ChangeResourceRecordSetsCommand).rejects(throttled);

        const failure = await provider()
          .publish(easyRecords, zone)
          .catch((e: unknown) => e);

        expect(failure).toBeInstanceOf(ThrottlingError);
        expect((failure as Error).cause).toBe(throttled);
        expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
        expect(sleeps).toEqual([]);
      },
    );

    it.each([
      [
        'NoSuchHostedZone',
        new NoSuchHostedZone({ message: 'gone', $metadata: {} }),
        DnsPublishError,
      ],
      [
        'InvalidChangeBatch',
        new InvalidChangeBatch({ message: 'RRSet of type CNAME conflicts', $metadata: {} }),
        DnsPublishError,
      ],
      ['AccessDenied', serviceError('AccessDenied', 403), DnsPublishError],
      ['a 503', serviceError('ServiceUnavailable', 503), ServiceUnavailableError],
    ])(
      'maps %s to its error class, with the original as cause',
      async (_name, error, errorClass) => {
        route53.on(ChangeResourceRecordSetsCommand).rejects(error);

        const failure = await provider()
          .publish(easyRecords, zone)
          .catch((e: unknown) => e);

        expect(failure).toBeInstanceOf(errorClass);
        expect((failure as Error).cause).toBe(error);
      },
    );

    it('writes nothing on a re-run when every record is already there', async () => {
      route53.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string }) => {
        const record = easyRecords.find((r) => `${r.name}.` === input.StartRecordName);
        return { ResourceRecordSets: record ? [existingSet(record)] : [], IsTruncated: false };
      });

      const outcome = await provider().publish(easyRecords, zone);

      expect(outcome).toEqual({
        written: true,
        changeId: null,
        detail: 'all 3 record(s) already in zone example.com: nothing written',
      });
      expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    });

    it('recognises an existing BYODKIM TXT however Route 53 splits its strings', async () => {
      const [record] = byoRecords;
      if (record === undefined) throw new Error('no record');
      const rechunked = `"${record.value.slice(0, 100)}" "${record.value.slice(100)}"`;
      route53.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [{ ...existingSet(record), ResourceRecords: [{ Value: rechunked }] }],
        IsTruncated: false,
      });

      await expect(provider().publish(byoRecords, zone)).resolves.toMatchObject({ changeId: null });
      expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    });

    it.each([
      ['a TTL differs', (r: (typeof easyRecords)[number]) => existingSet(r, 300)],
      [
        'a CNAME points elsewhere',
        (r: (typeof easyRecords)[number]) => ({
          ...existingSet(r),
          ResourceRecords: [{ Value: 'old.dkim.amazonses.com.' }],
        }),
      ],
    ])('UPSERTs every record again when %s', async (_case, makeSet) => {
      route53.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string }) => {
        const record = easyRecords.find((r) => `${r.name}.` === input.StartRecordName);
        const isFirst = record === easyRecords[0];
        return {
          ResourceRecordSets: record ? [isFirst ? makeSet(record) : existingSet(record)] : [],
          IsTruncated: false,
        };
      });

      await provider().publish(easyRecords, zone);

      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    });

    it('ignores the next record set when ListResourceRecordSets starts past the name', async () => {
      route53.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [
          {
            Name: 'zzz.example.com.',
            Type: 'CNAME',
            TTL: 1800,
            ResourceRecords: [{ Value: 'x.' }],
          },
        ],
        IsTruncated: false,
      });

      await provider().publish(easyRecords.slice(0, 1), zone);

      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    });
  });

  describe('remove', () => {
    it('DELETEs the exact current record sets and skips absent ones', async () => {
      const [first, second] = easyRecords;
      if (first === undefined || second === undefined) throw new Error('no records');
      const current: ResourceRecordSet = {
        ...existingSet(first, 600),
        ResourceRecords: [{ Value: 'older.dkim.amazonses.com.' }],
      };
      route53.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string }) => ({
        ResourceRecordSets: input.StartRecordName === `${first.name}.` ? [current] : [],
        IsTruncated: false,
      }));

      const outcome = await provider().remove([first, second], zone);

      expect(outcome).toMatchObject({ written: true, changeId: 'C1' });
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        HostedZoneId: 'Z1EXAMPLE',
        ChangeBatch: {
          Comment: 'Remove stale DKIM records',
          Changes: [{ Action: 'DELETE', ResourceRecordSet: current }],
        },
      });
    });

    it('changes nothing when none of the records exists', async () => {
      await expect(provider().remove(easyRecords, zone)).resolves.toMatchObject({
        written: false,
        changeId: null,
      });
      expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    });
  });
});

describe('parseTxtStrings', () => {
  it.each([
    ['"abc"', ['abc']],
    ['"a" "b"', ['a', 'b']],
    ['"with \\"quote\\"" "back\\\\slash"', ['with "quote"', 'back\\slash']],
    ['"octal \\073 escape"', ['octal ; escape']],
  ])('parses %s', (value, expected) => {
    expect(parseTxtStrings(value)).toEqual(expected);
  });
});
