import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeRecords } from '#shared/dns/probe.js';
import { dkimRecordsFor, splitTxt } from '#shared/dns/records.js';
import type { CreatedIdentity, DkimDnsRecord } from '#shared/workflow/types.js';
import {
  freeUdpPort,
  startDnsServer,
  type TestDnsServer,
  type ZoneData,
} from '#test/support/dns-server.js';
import byodkim from '../../../../events/publish-dns-records-byodkim.json' with { type: 'json' };
import easyDkim from '../../../../events/publish-dns-records-easy-dkim.json' with { type: 'json' };

// Probes run against real dns2 servers on 127.0.0.1, queried over the wire by node:dns.
const cnames = dkimRecordsFor(easyDkim as CreatedIdentity);
const [txt] = dkimRecordsFor(byodkim as CreatedIdentity) as [DkimDnsRecord];
const [cname] = cnames as [DkimDnsRecord, ...DkimDnsRecord[]];
const key = txt.value.slice(txt.value.indexOf('p=') + 2);

const cnameZone = (records: DkimDnsRecord[]): Record<string, ZoneData> =>
  Object.fromEntries(records.map((r) => [r.name, { CNAME: [r.value] }]));

const servers: TestDnsServer[] = [];
async function serve(...args: Parameters<typeof startDnsServer>): Promise<TestDnsServer> {
  const server = await startDnsServer(...args);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const fast = { timeoutMs: 500, totalTimeoutMs: 5_000, queryAuthoritative: false };

describe('probeRecords against a DNS server', () => {
  it('reports OK for the three Easy DKIM CNAMEs', async () => {
    const server = await serve(cnameZone(cnames));
    const results = await probeRecords(cnames, { ...fast, resolvers: [server.address] });
    expect(results).toEqual(
      cnames.map((r) => ({
        name: r.name,
        type: 'CNAME',
        status: 'OK',
        expected: r.value,
        found: null,
        detail: null,
      })),
    );
  });

  it('reports OK for a BYODKIM TXT split across strings, joining them before comparing', async () => {
    const strings = txt.strings ?? [];
    expect(strings.length).toBeGreaterThan(1);
    const server = await serve({ [txt.name]: { TXT: [strings] } });
    const [result] = await probeRecords([txt], { ...fast, resolvers: [server.address] });
    expect(result?.status).toBe('OK');
  });

  it('reports OK for a TXT written with other spacing and strings cut elsewhere', async () => {
    const text = `v=DKIM1;k=rsa;p=${key}`;
    const server = await serve({
      [txt.name]: { TXT: [[text.slice(0, 40), text.slice(40, 250), text.slice(250)]] },
    });
    const [result] = await probeRecords([txt], { ...fast, resolvers: [server.address] });
    expect(result?.status).toBe('OK');
  });

  it('reports MISSING when the name does not exist (NXDOMAIN)', async () => {
    const server = await serve({});
    const [result] = await probeRecords([cname], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({
      status: 'MISSING',
      found: null,
      detail: 'the name does not exist (NXDOMAIN)',
    });
  });

  it('reports MISSING when the name exists without a record of the type (no data)', async () => {
    const server = await serve({ [cname.name]: { TXT: [['something else']] } });
    const [result] = await probeRecords([cname], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'MISSING', detail: 'the name has no CNAME record' });
  });

  it('reports WRONG_VALUE with what it found for a CNAME pointing elsewhere', async () => {
    const server = await serve({ [cname.name]: { CNAME: ['old.dkim.amazonses.com'] } });
    const [result] = await probeRecords([cname], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'WRONG_VALUE', found: 'old.dkim.amazonses.com' });
  });

  it('reports WRONG_VALUE for a TXT holding another key', async () => {
    const other = `v=DKIM1; k=rsa; p=${'B'.repeat(key.length)}`;
    const server = await serve({ [txt.name]: { TXT: [splitTxt(other)] } });
    const [result] = await probeRecords([txt], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'WRONG_VALUE', found: other });
  });

  it('reports DUPLICATED_DOMAIN when the record sits at name.domain.domain', async () => {
    const doubled = `${cname.name}.example.com`;
    const server = await serve({ [doubled]: { CNAME: [cname.value] } });
    const [result] = await probeRecords([cname], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'DUPLICATED_DOMAIN', found: doubled });
    expect(result?.detail).toContain('value correct');
  });

  it('checks the duplicated name against the identity domain of a subdomain identity', async () => {
    // s2026._domainkey.mail.example.com typed into a console for the zone mail.example.com.
    const doubled = `${txt.name}.mail.example.com`;
    const server = await serve({ [doubled]: { TXT: [txt.strings ?? []] } });
    const [result] = await probeRecords([txt], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'DUPLICATED_DOMAIN', found: doubled });
  });

  it.each([
    ['only its first 255-character string', () => [txt.strings?.[0] ?? '']],
    ['a key shorter than the expected one', () => [`v=DKIM1; k=rsa; p=${key.slice(0, 200)}Q`]],
  ])('reports PARTIAL for a TXT with %s', async (_case, strings) => {
    const server = await serve({ [txt.name]: { TXT: [strings()] } });
    const [result] = await probeRecords([txt], { ...fast, resolvers: [server.address] });
    expect(result).toMatchObject({ status: 'PARTIAL', found: strings().join('') });
    expect(result?.detail).toMatch(/^the key has \d+ of \d+ characters/);
  });

  it('reports ERROR with the DNS error when the server fails (SERVFAIL)', async () => {
    const server = await serve(cnameZone(cnames), { servfail: [cname.name] });
    const [first, second] = await probeRecords(cnames.slice(0, 2), {
      ...fast,
      resolvers: [server.address],
    });
    expect(first).toMatchObject({ status: 'ERROR', found: null });
    expect(first?.detail).toMatch(/^ESERVFAIL/);
    expect(second?.status).toBe('OK');
  });

  it('reports ERROR after the query timeout when the server never answers', async () => {
    const server = await serve({}, { behaviour: 'silent' });
    const [result] = await probeRecords([cname], {
      timeoutMs: 200,
      totalTimeoutMs: 20_000,
      queryAuthoritative: false,
      resolvers: [server.address],
    });
    expect(result?.status).toBe('ERROR');
    expect(result?.detail).toMatch(/^ETIMEOUT/);
    expect(server.questions.length).toBeGreaterThan(0);
  });

  it("reports ERROR for every record when the probe's bound passes first", async () => {
    const server = await serve({}, { behaviour: 'silent' });
    const results = await probeRecords(cnames, {
      timeoutMs: 30_000,
      totalTimeoutMs: 300,
      resolvers: [server.address],
    });
    expect(results.map((r) => r.status)).toEqual(['ERROR', 'ERROR', 'ERROR']);
    expect(results[0]?.detail).toBe("no answer within the probe's bound of 300 ms");
  });

  it('returns no results for no records', async () => {
    await expect(probeRecords([], fast)).resolves.toEqual([]);
  });
});

describe('probeRecords with authoritative name servers', () => {
  const delegation: Record<string, ZoneData> = {
    'example.com': { NS: ['ns1.example.com'] },
    'ns1.example.com': { A: ['127.0.0.1'] },
  };
  let authority: TestDnsServer;

  beforeAll(async () => {
    authority = await startDnsServer({ ...delegation, ...cnameZone(cnames) });
  });
  afterAll(async () => {
    await authority.close();
  });

  it("prefers the authoritative answer over the resolver's stale one", async () => {
    // The resolver still has the old value cached; the zone's own server has the new one.
    const resolver = await serve({
      ...delegation,
      [cname.name]: { CNAME: ['old.dkim.amazonses.com'] },
    });
    const [result] = await probeRecords([cname], {
      ...fast,
      queryAuthoritative: true,
      resolvers: [resolver.address],
      authoritativePort: authority.port,
    });
    expect(result).toMatchObject({ status: 'OK', found: null });
    expect(result?.detail).toBe('authoritative answer; the resolvers still say WRONG_VALUE');
    expect(authority.questions).toContain(`CNAME ${cname.name}`);
  });

  it('finds the zone of a subdomain identity by walking up to the parent', async () => {
    const resolver = await serve(delegation);
    const sub = { ...cname, name: cname.name.replace('example.com', 'news.example.com') };
    await probeRecords([sub], {
      ...fast,
      queryAuthoritative: true,
      resolvers: [resolver.address],
      authoritativePort: authority.port,
    });
    expect(resolver.questions).toEqual(
      expect.arrayContaining(['NS news.example.com', 'NS example.com', 'A ns1.example.com']),
    );
    expect(authority.questions).toContain(`CNAME ${sub.name}`);
  });

  it("keeps the resolver's answer when the authoritative servers cannot be reached", async () => {
    const resolver = await serve({ ...delegation, ...cnameZone(cnames) });
    const closedPort = await freeUdpPort();
    const [result] = await probeRecords([cname], {
      ...fast,
      queryAuthoritative: true,
      resolvers: [resolver.address],
      authoritativePort: closedPort,
    });
    expect(result).toMatchObject({ status: 'OK', detail: null });
  });

  it('asks no name server questions when authoritative queries are off', async () => {
    const resolver = await serve({ ...delegation, ...cnameZone(cnames) });
    await probeRecords([cname], { ...fast, resolvers: [resolver.address] });
    expect(resolver.questions).toEqual([`CNAME ${cname.name}`]);
  });
});
