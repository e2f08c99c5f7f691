import { DnsPublishError } from '#shared/workflow/errors.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';

/** A DNS zone a provider can write into. `name` is lower case, without the trailing dot. */
export interface DnsZone {
  id: string;
  name: string;
}

/** What a provider did with the records. */
export interface PublishOutcome {
  /** True when the records are in the provider's zone now (written by this call or already there). */
  written: boolean;
  /** The provider's handle on the change, when it made one. */
  changeId: string | null;
  /** Why the outcome is what it is, in a sentence ("records already up to date: nothing written"). */
  detail: string;
}

/** What a provider deleted: the records that were there (absent ones are skipped). */
export interface RemoveOutcome extends PublishOutcome {
  removed: DkimDnsRecord[];
}

/**
 * A place DKIM records can go. The workflow only sees this interface: a new provider
 * (Cloudflare, PowerDNS, ...) implements it and is added to the list given to `selectProvider`.
 */
export interface DnsProvider {
  /** The name requests use for it (`Dns.Provider`). */
  readonly name: string;
  /**
   * Finds the zone the records of `domain` belong in: `zoneId` when given (it must hold the
   * domain), else the provider's best match. Null when the provider holds no zone for it.
   * Providers that write nowhere (manual) have no `findZone`.
   */
  findZone?(domain: string, zoneId: string | null): Promise<DnsZone | null>;
  /** Makes the records exist in `zone` (null for providers without zones). Idempotent. */
  publish(records: DkimDnsRecord[], zone: DnsZone | null): Promise<PublishOutcome>;
  /**
   * What the provider's zone holds at a name and type (TXT strings joined), [] when nothing: how
   * PublishDnsRecords finds a DMARC record it must not overwrite. Providers without zones
   * (manual) have none; DNS itself is asked instead.
   */
  valuesAt?(name: string, type: DkimDnsRecord['type'], zone: DnsZone | null): Promise<string[]>;
  /** Deletes the records (stale keys after a rotation); records already absent are skipped. */
  remove?(records: DkimDnsRecord[], zone: DnsZone | null): Promise<RemoveOutcome>;
}

/** What removing stale records needs of a provider: its name and its `remove`. */
export type RecordRemover = Pick<DnsProvider, 'name' | 'remove'>;

/** The provider the step will use, the zone it found, and why it was chosen. */
export interface ProviderChoice {
  provider: DnsProvider;
  zone: DnsZone | null;
  reason: string;
}

export interface SelectProviderInput {
  /** The identity's domain. */
  domain: string;
  /** The request's `Dns.Provider`, or null to let the default rule choose. */
  requested: string | null;
  /** The request's `Dns.HostedZoneId`, or null. */
  zoneId: string | null;
  /** The deployment's default zone, used when the request names none (and it holds the domain). */
  defaultZoneId?: string | null;
  /** Providers that can find zones, in the order the default rule tries them (route53 first). */
  providers: DnsProvider[];
  /** The provider used when none of `providers` holds a zone for the domain (manual). */
  fallback: DnsProvider;
}

/**
 * Chooses the provider by the default rule: the request's explicit choice wins; otherwise the
 * first provider with a zone for the domain; otherwise the fallback (manual). An explicit
 * provider that finds no zone fails with a DnsPublishError saying so, since writing nowhere is
 * not what was asked for.
 */
export async function selectProvider(input: SelectProviderInput): Promise<ProviderChoice> {
  const { domain, requested, zoneId, providers, fallback } = input;
  const defaultZoneId = input.defaultZoneId ?? null;
  const all = [...providers, fallback];

  if (requested !== null) {
    const provider = all.find((p) => p.name === requested);
    if (provider === undefined) {
      throw new DnsPublishError(
        `Unknown DNS provider "${requested}"; known providers: ${all.map((p) => p.name).join(', ')}`,
      );
    }
    if (provider.findZone === undefined) {
      return {
        provider,
        zone: null,
        reason: `the request asked for the ${provider.name} provider`,
      };
    }
    const zone = await findZoneWithDefault(provider, domain, zoneId, defaultZoneId);
    if (zone === null) {
      throw new DnsPublishError(
        `The request asked for the ${provider.name} provider, but no ${provider.name} zone holds ${domain}`,
      );
    }
    return {
      provider,
      zone,
      reason: `the request asked for the ${provider.name} provider; ${zoneReason(zone, zoneId, defaultZoneId)}`,
    };
  }

  for (const provider of providers) {
    if (provider.findZone === undefined) continue;
    // A zone id in the request is taken as a vote for the provider that owns it.
    const zone = await findZoneWithDefault(provider, domain, zoneId, defaultZoneId);
    if (zone !== null) {
      return {
        provider,
        zone,
        reason: `no provider requested; ${zoneReason(zone, zoneId, defaultZoneId)}`,
      };
    }
  }
  if (zoneId !== null) {
    throw new DnsPublishError(`No DNS provider holds the requested zone ${zoneId}`);
  }
  return {
    provider: fallback,
    zone: null,
    reason: `no provider requested and no ${providers.map((p) => p.name).join(' or ')} zone holds ${domain}`,
  };
}

async function findZoneWithDefault(
  provider: DnsProvider,
  domain: string,
  zoneId: string | null,
  defaultZoneId: string | null,
): Promise<DnsZone | null> {
  const find = provider.findZone?.bind(provider);
  if (find === undefined) return null;
  if (zoneId !== null) return find(domain, zoneId);
  if (defaultZoneId !== null) {
    // The default zone only serves domains it holds; others fall back to the usual search.
    try {
      const zone = await find(domain, defaultZoneId);
      if (zone !== null) return zone;
    } catch (error) {
      if (!(error instanceof DnsPublishError)) throw error;
    }
  }
  return find(domain, null);
}

function zoneReason(zone: DnsZone, zoneId: string | null, defaultZoneId: string | null): string {
  if (zoneId !== null) return `the request named zone ${zone.id} (${zone.name})`;
  if (defaultZoneId !== null && zone.id === defaultZoneId) {
    return `the deployment's default zone ${zone.id} (${zone.name}) holds the domain`;
  }
  return `zone ${zone.id} (${zone.name}) is the longest match for the domain`;
}
