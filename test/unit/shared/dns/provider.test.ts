import { describe, expect, it } from 'vitest';
import { ManualDnsProvider } from '#shared/dns/manual-provider.js';
import { type DnsProvider, type DnsZone, selectProvider } from '#shared/dns/provider.js';
import { isSameOrSubdomain } from '#shared/dns/records.js';
import { DnsPublishError } from '#shared/workflow/errors.js';

/** A provider holding the given zones, as Route 53 (or Cloudflare, PowerDNS...) would. */
function providerWithZones(name: string, zones: DnsZone[]): DnsProvider {
  return {
    name,
    async findZone(domain, zoneId) {
      if (zoneId !== null) {
        const zone = zones.find((z) => z.id === zoneId);
        if (zone === undefined || !isSameOrSubdomain(domain, zone.name)) {
          throw new DnsPublishError(`zone ${zoneId} does not hold ${domain}`);
        }
        return zone;
      }
      const matching = zones.filter((z) => isSameOrSubdomain(domain, z.name));
      return matching.sort((a, b) => b.name.length - a.name.length)[0] ?? null;
    },
    async publish() {
      return { written: true, changeId: 'C1', detail: 'written' };
    },
  };
}

const route53 = providerWithZones('route53', [
  { id: 'ZEXAMPLE', name: 'example.com' },
  { id: 'ZOTHER', name: 'other.org' },
]);
const manual = new ManualDnsProvider();
const base = { requested: null, zoneId: null, providers: [route53], fallback: manual };

describe('selectProvider', () => {
  it('chooses route53 when a zone holds the domain and no provider was requested', async () => {
    const choice = await selectProvider({ ...base, domain: 'mail.example.com' });
    expect(choice.provider.name).toBe('route53');
    expect(choice.zone).toEqual({ id: 'ZEXAMPLE', name: 'example.com' });
    expect(choice.reason).toBe(
      'no provider requested; zone ZEXAMPLE (example.com) is the longest match for the domain',
    );
  });

  it('falls back to manual when no zone holds the domain, and says why', async () => {
    const choice = await selectProvider({ ...base, domain: 'example.net' });
    expect(choice.provider.name).toBe('manual');
    expect(choice.zone).toBeNull();
    expect(choice.reason).toBe('no provider requested and no route53 zone holds example.net');
  });

  it('uses manual when the request asks for it, even though a zone matches', async () => {
    const choice = await selectProvider({ ...base, domain: 'example.com', requested: 'manual' });
    expect(choice.provider.name).toBe('manual');
    expect(choice.reason).toBe('the request asked for the manual provider');
  });

  it('fails with DnsPublishError when route53 is requested and no zone holds the domain', async () => {
    const attempt = selectProvider({ ...base, domain: 'example.net', requested: 'route53' });
    await expect(attempt).rejects.toBeInstanceOf(DnsPublishError);
    await expect(attempt).rejects.toThrow(
      'The request asked for the route53 provider, but no route53 zone holds example.net',
    );
  });

  it('uses the zone the request names', async () => {
    const choice = await selectProvider({ ...base, domain: 'other.org', zoneId: 'ZOTHER' });
    expect(choice.zone?.id).toBe('ZOTHER');
    expect(choice.reason).toContain('the request named zone ZOTHER (other.org)');
  });

  it('fails when the zone the request names does not hold the domain', async () => {
    await expect(
      selectProvider({ ...base, domain: 'example.com', zoneId: 'ZOTHER' }),
    ).rejects.toBeInstanceOf(DnsPublishError);
  });

  it("uses the deployment's default zone when it holds the domain", async () => {
    const choice = await selectProvider({
      ...base,
      domain: 'example.com',
      defaultZoneId: 'ZEXAMPLE',
    });
    expect(choice.zone?.id).toBe('ZEXAMPLE');
    expect(choice.reason).toContain("the deployment's default zone ZEXAMPLE");
  });

  it("searches as usual when the deployment's default zone does not hold the domain", async () => {
    const choice = await selectProvider({
      ...base,
      domain: 'other.org',
      defaultZoneId: 'ZEXAMPLE',
    });
    expect(choice.zone?.id).toBe('ZOTHER');
  });

  it('tries providers in order, so a second provider is reached without workflow changes', async () => {
    const cloudflare = providerWithZones('cloudflare', [{ id: 'cf-1', name: 'example.net' }]);
    const choice = await selectProvider({
      ...base,
      domain: 'example.net',
      providers: [route53, cloudflare],
    });
    expect(choice.provider.name).toBe('cloudflare');
    expect(choice.zone?.id).toBe('cf-1');
  });

  it('rejects a provider name nobody implements', async () => {
    await expect(
      selectProvider({ ...base, domain: 'example.com', requested: 'bind' }),
    ).rejects.toThrow('Unknown DNS provider "bind"; known providers: route53, manual');
  });
});

describe('ManualDnsProvider', () => {
  it('writes nothing and says the records must be added by hand', async () => {
    await expect(
      manual.publish([{ type: 'CNAME', name: 'a', value: 'b', ttl: 1 }]),
    ).resolves.toEqual({
      written: false,
      changeId: null,
      detail: 'nothing written: 1 record(s) must be added to DNS by hand',
    });
  });
});
