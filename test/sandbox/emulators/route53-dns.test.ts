import { Resolver } from 'node:dns/promises';
import {
  type ChangeAction,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  HostedZoneAlreadyExists,
  InvalidChangeBatch,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { TCPClient } from 'dns2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientConfig, type Stack, startStack } from './stack.js';

describe('emulated Route 53 and the sandbox DNS server', () => {
  let stack: Stack;
  let route53: Route53Client;
  let resolver: Resolver;
  let zoneId: string;

  beforeEach(async () => {
    stack = await startStack({
      route53InsyncDelayMs: 60_000,
      zones: ['example.com', 'example.org'],
      // About zones, records and DNS answers; the account rate has tests of its own below.
      route53: { faults: { rateLimit: 0 } },
    });
    route53 = new Route53Client(clientConfig(stack.url));
    resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([stack.dnsServer?.address as string]);
    zoneId = (stack.zones.get('example.com') as { id: string }).id;
  });
  afterEach(async () => {
    route53.destroy();
    await stack.stop();
  });

  const change = (Action: ChangeAction, Name: string, Type: RRType, values: string[], TTL = 300) =>
    route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action,
              ResourceRecordSet: {
                Name,
                Type,
                TTL,
                ResourceRecords: values.map((Value) => ({ Value })),
              },
            },
          ],
        },
      }),
    );
  const dnsCode = (query: Promise<unknown>) =>
    query.then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );

  it('creates a zone with its SOA and four NS, PENDING then INSYNC, and refuses a reused caller reference', async () => {
    const created = await route53.send(
      new CreateHostedZoneCommand({ Name: 'tenant.test', CallerReference: 'ref-1' }),
    );
    expect(created.HostedZone?.Name).toBe('tenant.test.');
    expect(created.DelegationSet?.NameServers).toHaveLength(4);
    expect(created.ChangeInfo?.Status).toBe('PENDING');
    const sets = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: created.HostedZone?.Id }),
    );
    expect(sets.ResourceRecordSets?.map((set) => set.Type)).toEqual(['NS', 'SOA']);
    stack.clock.advance(60_000);
    const insync = await route53.send(new GetChangeCommand({ Id: created.ChangeInfo?.Id }));
    expect(insync.ChangeInfo?.Status).toBe('INSYNC');
    await expect(
      route53.send(new CreateHostedZoneCommand({ Name: 'other.test', CallerReference: 'ref-1' })),
    ).rejects.toBeInstanceOf(HostedZoneAlreadyExists);
  });

  it('lists zones by name page by page, and flags private zones', async () => {
    await route53.send(
      new CreateHostedZoneCommand({
        Name: 'internal.test',
        CallerReference: 'ref-p',
        HostedZoneConfig: { PrivateZone: true },
      }),
    );
    const names: string[] = [];
    let next: { DNSName?: string; HostedZoneId?: string } = {};
    for (;;) {
      const page = await route53.send(new ListHostedZonesByNameCommand({ ...next, MaxItems: 1 }));
      names.push(
        ...(page.HostedZones ?? []).map(
          (zone) => `${zone.Name}${zone.Config?.PrivateZone ? ' private' : ''}`,
        ),
      );
      if (!page.IsTruncated) break;
      next = { DNSName: page.NextDNSName, HostedZoneId: page.NextHostedZoneId };
    }
    expect(names).toEqual(['example.com.', 'example.org.', 'internal.test. private']);
    const all = await route53.send(new ListHostedZonesCommand({}));
    expect(all.HostedZones).toHaveLength(3);
  });

  it('answers a change over DNS only once it is INSYNC', async () => {
    const submitted = await change('UPSERT', 'www.example.com', 'A', ['192.0.2.10']);
    expect(submitted.ChangeInfo?.Status).toBe('PENDING');
    expect(await dnsCode(resolver.resolve4('www.example.com'))).toBe('ENOTFOUND');
    stack.clock.advance(60_000);
    expect(
      (await route53.send(new GetChangeCommand({ Id: submitted.ChangeInfo?.Id }))).ChangeInfo
        ?.Status,
    ).toBe('INSYNC');
    expect(await resolver.resolve4('www.example.com')).toEqual(['192.0.2.10']);
  });

  it.each([
    ['a CREATE of an existing set', 'CREATE' as const, ['192.0.2.1'], /already exists/],
    ['a DELETE whose values do not match', 'DELETE' as const, ['192.0.2.99'], /do not match/],
  ])('rejects %s with InvalidChangeBatch', async (_case, action, values, message) => {
    await change('CREATE', 'a.example.com', 'A', ['192.0.2.1']);
    const error = await change(action, 'a.example.com', 'A', values).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidChangeBatch);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    [
      'a name outside the zone',
      'x.example.net',
      'A' as const,
      ['192.0.2.1'],
      /not permitted in zone/,
    ],
    [
      'a TXT string over 255 characters',
      't.example.com',
      'TXT' as const,
      [`"${'a'.repeat(256)}"`],
      /TXTRDATATooLong/,
    ],
    ['a CNAME beside other records', 'example.com', 'CNAME' as const, ['x.example.net'], /CNAME/],
    [
      'a TXT value without its quotation marks',
      't.example.com',
      'TXT' as const,
      ['v=spf1 -all'],
      /InvalidCharacterString \(Value should be enclosed in quotation marks\) encountered with 'v=spf1 -all'/,
    ],
    [
      'a TXT value with one string unquoted',
      't.example.com',
      'TXT' as const,
      ['"v=DKIM1; k=rsa;" p=ABC'],
      /InvalidCharacterString/,
    ],
  ])('rejects %s with InvalidChangeBatch', async (_case, name, type, values, message) => {
    const error = await change('CREATE', name, type, values).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidChangeBatch);
    expect((error as Error).message).toMatch(message);
  });

  it('raises NoSuchHostedZone for an unknown zone', async () => {
    await expect(
      route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOSUCHZONE' })),
    ).rejects.toBeInstanceOf(NoSuchHostedZone);
  });

  it('pages record sets by StartRecordName and StartRecordType, in Route 53 order', async () => {
    await change('CREATE', 'b.example.com', 'TXT', ['"b"']);
    await change('CREATE', 'a.example.com', 'TXT', ['"a"']);
    await change('CREATE', 'a.example.com', 'A', ['192.0.2.1']);
    const seen: string[] = [];
    let start: { StartRecordName?: string; StartRecordType?: RRType } = {};
    for (;;) {
      const page = await route53.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 2, ...start }),
      );
      seen.push(...(page.ResourceRecordSets ?? []).map((set) => `${set.Name} ${set.Type}`));
      if (!page.IsTruncated) break;
      start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType };
    }
    expect(seen).toEqual([
      'example.com. NS',
      'example.com. SOA',
      'a.example.com. A',
      'a.example.com. TXT',
      'b.example.com. TXT',
    ]);
  });

  it('answers CNAME, multi-string TXT, SOA, NS and A from the zones', async () => {
    await change('CREATE', 'tok._domainkey.example.com', 'CNAME', ['tok.dkim.amazonses.com']);
    await change('CREATE', 'sel._domainkey.example.com', 'TXT', ['"v=DKIM1; k=rsa; " "p=ABC"']);
    await change('CREATE', 'host.example.com', 'A', ['192.0.2.7']);
    stack.clock.advance(60_000);
    expect(await resolver.resolveCname('tok._domainkey.example.com')).toEqual([
      'tok.dkim.amazonses.com',
    ]);
    expect(await resolver.resolveTxt('sel._domainkey.example.com')).toEqual([
      ['v=DKIM1; k=rsa; ', 'p=ABC'],
    ]);
    expect((await resolver.resolveSoa('example.com')).hostmaster).toBe(
      'awsdns-hostmaster.amazon.com',
    );
    expect(await resolver.resolveNs('example.com')).toHaveLength(4);
    expect(await resolver.resolve4('host.example.com')).toEqual(['192.0.2.7']);
  });

  it.each([
    ['NXDOMAIN for a missing name under a zone', 'missing.example.com', 'ENOTFOUND'],
    ['NOERROR with no data for a name with other types', 'example.com', 'ENODATA'],
    // As a resolver answers a name whose records do not exist, not REFUSED.
    ['NXDOMAIN for a name under no zone', 'example.net', 'ENOTFOUND'],
  ])('answers %s', async (_case, name, code) => {
    expect(await dnsCode(resolver.resolveTxt(name))).toBe(code);
  });

  it('answers SERVFAIL for a failed name and its subtree until the fault is cleared', async () => {
    stack.dnsServer?.failName('example.com');
    expect(await dnsCode(resolver.resolveSoa('example.com'))).toBe('ESERVFAIL');
    expect(await dnsCode(resolver.resolveTxt('x._domainkey.example.com'))).toBe('ESERVFAIL');
    expect(await dnsCode(resolver.resolveSoa('example.org'))).toBe('answered');
    stack.dnsServer?.clearFault('example.com');
    expect(await dnsCode(resolver.resolveSoa('example.com'))).toBe('answered');
  });

  it('answers over TCP on the same port', async () => {
    await change('CREATE', 'tcp.example.com', 'TXT', ['"over tcp"']);
    stack.clock.advance(60_000);
    const query = TCPClient({
      dns: stack.dnsServer?.host as string,
      port: stack.dnsServer?.port as number,
    });
    const response = await query('tcp.example.com', 'TXT');
    expect(response.answers.map((answer) => (answer as { data?: unknown }).data)).toEqual([
      ['over tcp'],
    ]);
  });

  it('lists 100 record sets a page when no MaxItems is given, and up to 300 when asked', async () => {
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: Array.from({ length: 150 }, (_, i) => ({
            Action: 'CREATE' as const,
            ResourceRecordSet: {
              Name: `r${i}.example.com`,
              Type: 'A' as const,
              TTL: 300,
              ResourceRecords: [{ Value: '192.0.2.1' }],
            },
          })),
        },
      }),
    );

    const first = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const large = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 1000 }),
    );

    expect(first).toMatchObject({ MaxItems: 100, IsTruncated: true });
    expect(first.ResourceRecordSets).toHaveLength(100);
    // 150 A records, the zone's SOA and NS: all on one page of at most 300.
    expect(large).toMatchObject({ MaxItems: 300, IsTruncated: false });
    expect(large.ResourceRecordSets).toHaveLength(152);
  });
});

describe('Route 53 throttling', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('answers Throttling, Rate exceeded (400) beyond 50 requests at once, and refills 10 a second', async () => {
    stack = await startStack();
    const route53 = new Route53Client(clientConfig(stack.url));
    const outcomes: string[] = [];
    const list = () =>
      route53.send(new ListHostedZonesCommand({})).then(
        () => 'ok',
        (error: { name: string; message: string; $metadata: { httpStatusCode: number } }) =>
          `${error.name} ${error.message} ${error.$metadata.httpStatusCode}`,
      );

    for (let i = 0; i < 51; i++) outcomes.push(await list());
    stack.clock.advance(1000);
    for (let i = 0; i < 11; i++) outcomes.push(await list());

    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(60);
    expect(outcomes[50]).toBe('Throttling Rate exceeded 400');
    expect(outcomes[61]).toBe('Throttling Rate exceeded 400');
    expect(stack.metrics.snapshot()['route53:ListHostedZones']).toEqual({
      ok: 60,
      throttled: 2,
      failed: 0,
    });
    route53.destroy();
  });

  it("refuses a change batch with PriorRequestNotComplete while the zone's last change is PENDING", async () => {
    stack = await startStack({
      route53InsyncDelayMs: 60_000,
      route53: { faults: { rateLimit: 0 }, priorRequestRate: 1 },
    });
    const route53 = new Route53Client(clientConfig(stack.url));
    const zoneId = (stack.zones.get('example.com') as { id: string }).id;
    const upsert = (name: string) =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: 'UPSERT',
                ResourceRecordSet: {
                  Name: name,
                  Type: 'A',
                  TTL: 300,
                  ResourceRecords: [{ Value: '192.0.2.1' }],
                },
              },
            ],
          },
        }),
      );

    await upsert('a.example.com');
    const refused = await upsert('b.example.com').catch((error: Error) => error);
    stack.clock.advance(60_000);
    await upsert('b.example.com');

    expect(refused).toBeInstanceOf(PriorRequestNotComplete);
    route53.destroy();
  });
});
