import {
  GetHostedZoneCommand,
  type HostedZone,
  ListHostedZonesByNameCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { DnsPublishError } from '#shared/workflow/errors.js';
import type { DnsZone } from './provider.js';
import { isSameOrSubdomain, normalizeName } from './records.js';
import { decodeName, route53Call, stripPrefix } from './route53-api.js';

/**
 * Finds the public hosted zone an identity's records belong in: the one named, or the public
 * zone whose name is the longest suffix of the domain. Kept apart from the record changes, so
 * that a function which only removes records is never able to look zones up.
 */
export class Route53Zones {
  constructor(private readonly client: Route53Client) {}

  /**
   * The zone for `domain`: `zoneId` when given (it must be public and hold the domain), else the
   * public zone with the longest name that is the domain or a parent of it. Null when none is.
   */
  async findZone(domain: string, zoneId: string | null): Promise<DnsZone | null> {
    return zoneId === null ? this.findLongestSuffixZone(domain) : this.getZone(domain, zoneId);
  }

  private async getZone(domain: string, zoneId: string): Promise<DnsZone> {
    const id = stripPrefix(zoneId);
    const response = await route53Call('GetHostedZone', () =>
      this.client.send(new GetHostedZoneCommand({ Id: id })),
    );
    const zone = response.HostedZone;
    if (zone === undefined) throw new DnsPublishError(`Route 53 returned no hosted zone ${id}`);
    const name = decodeName(zone.Name ?? '');
    if (zone.Config?.PrivateZone === true) {
      throw new DnsPublishError(
        `Hosted zone ${id} (${name}) is private: SES cannot see records in a private zone`,
      );
    }
    if (!isSameOrSubdomain(domain, name)) {
      throw new DnsPublishError(
        `Hosted zone ${id} (${name}) does not hold ${normalizeName(domain)}`,
      );
    }
    return { id, name };
  }

  private async findLongestSuffixZone(domain: string): Promise<DnsZone | null> {
    const candidates: HostedZone[] = [];
    let dnsName: string | undefined;
    let hostedZoneId: string | undefined;
    // ListHostedZonesByName orders by reversed labels, so a domain's parents sort before it and
    // starting at the domain would miss them: walk every page and filter.
    do {
      const page = await route53Call('ListHostedZonesByName', () =>
        this.client.send(
          new ListHostedZonesByNameCommand({
            DNSName: dnsName,
            HostedZoneId: hostedZoneId,
            MaxItems: 100,
          }),
        ),
      );
      for (const zone of page.HostedZones ?? []) {
        if (zone.Config?.PrivateZone === true) continue;
        if (isSameOrSubdomain(domain, decodeName(zone.Name ?? ''))) candidates.push(zone);
      }
      if (page.IsTruncated !== true) break;
      dnsName = page.NextDNSName;
      hostedZoneId = page.NextHostedZoneId;
    } while (dnsName !== undefined);

    if (candidates.length === 0) return null;
    const longest = Math.max(...candidates.map((z) => decodeName(z.Name ?? '').length));
    const best = candidates.filter((z) => decodeName(z.Name ?? '').length === longest);
    const [first] = best;
    if (first === undefined) return null;
    const name = decodeName(first.Name ?? '');
    if (best.length > 1) {
      // Only one of them is delegated, and Route 53 cannot tell us which: ask, do not guess.
      throw new DnsPublishError(
        `Several public hosted zones are named ${name} (${best.map((z) => stripPrefix(z.Id ?? '')).join(', ')}); name one with Dns.HostedZoneId`,
      );
    }
    return { id: stripPrefix(first.Id ?? ''), name };
  }
}
