import type { Route53Client } from '@aws-sdk/client-route-53';
import { route53Client } from '#shared/aws/clients/route53.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';
import type { DnsProvider, DnsZone, PublishOutcome, RemoveOutcome } from './provider.js';
import { Route53RecordSets, type Route53RecordSetsOptions } from './route53-record-sets.js';
import { Route53Zones } from './route53-zones.js';

export type Route53ProviderOptions = Route53RecordSetsOptions & { client?: Route53Client };

/**
 * Route 53 writes the records into a public hosted zone: the one named, or the public zone whose
 * name is the longest suffix of the identity's domain (Route53Zones). All records go in one
 * UPSERT batch, and `publish` returns once Route 53 reports the change INSYNC (or fails after
 * `changeWaitMs`) (Route53RecordSets).
 *
 * The provider does not retry a failed call: throttling and 5xx go to the state machine, which
 * retries the whole step with back-off (route53-api.ts).
 */
export class Route53DnsProvider implements DnsProvider {
  readonly name = 'route53';
  private readonly zones: Route53Zones;
  private readonly recordSets: Route53RecordSets;

  constructor(options: Route53ProviderOptions = {}) {
    const client = options.client ?? route53Client;
    this.zones = new Route53Zones(client);
    this.recordSets = new Route53RecordSets({ ...options, client });
  }

  findZone(domain: string, zoneId: string | null): Promise<DnsZone | null> {
    return this.zones.findZone(domain, zoneId);
  }

  /** UPSERTs every record in one batch, unless they are all there already. Waits for INSYNC. */
  publish(records: DkimDnsRecord[], zone: DnsZone | null): Promise<PublishOutcome> {
    return this.recordSets.publish(records, zone);
  }

  /** What the zone holds at a name and type (TXT strings joined): [] when nothing. */
  valuesAt(name: string, type: DkimDnsRecord['type'], zone: DnsZone | null): Promise<string[]> {
    if (zone === null) return Promise.resolve([]);
    return this.recordSets.valuesAt(name, type, zone);
  }

  /** Deletes the record sets at the records' names and types; absent records are skipped. */
  remove(records: DkimDnsRecord[], zone: DnsZone | null): Promise<RemoveOutcome> {
    return this.recordSets.remove(records, zone);
  }
}
