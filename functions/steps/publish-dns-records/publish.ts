import { type DnsProvider, selectProvider } from '#shared/dns/provider.js';
import { dkimRecordsFor, toZoneFileLines } from '#shared/dns/records.js';
import { DnsPublishError } from '#shared/workflow/errors.js';
import type { CreatedIdentity, PublishedRecords } from '#shared/workflow/types.js';

export interface PublishSettings {
  /** Providers that find zones, in the order the default rule tries them (route53). */
  providers: DnsProvider[];
  /** The provider used when none of them holds a zone (manual). */
  fallback: DnsProvider;
  /** TTL of the records, in seconds. */
  ttl: number;
  /** The deployment's default hosted zone, used when the request names none. */
  defaultHostedZoneId: string | null;
}

/**
 * PublishDnsRecords: derives the identity's DKIM records, chooses the provider (the request's,
 * else the one with a zone for the domain, else manual), and has it write them. Every output
 * field is present, null when it does not apply, because the state machine reads them by path.
 */
export async function publishDkimRecords(
  identity: CreatedIdentity,
  settings: PublishSettings,
): Promise<PublishedRecords> {
  if (identity.identity_type === 'EMAIL_ADDRESS') {
    return {
      provider: 'manual',
      provider_reason:
        'an email address is verified through the link SES sends to it: no DNS records',
      hosted_zone_id: null,
      hosted_zone_name: null,
      written: false,
      change_id: null,
      records: [],
      zone_file: [],
    };
  }

  const records = dkimRecordsFor(identity, { ttl: settings.ttl });
  if (records.length === 0) {
    // SES always returns tokens (Easy DKIM) and CreateIdentity a public key (BYODKIM).
    throw new DnsPublishError(
      `No DKIM records can be derived for ${identity.identity}: ${
        identity.dkim?.origin === 'EXTERNAL'
          ? 'the BYODKIM identity has no selector or public key'
          : 'SES returned no DKIM tokens'
      }`,
    );
  }

  const choice = await selectProvider({
    domain: identity.identity,
    requested: identity.dns.provider,
    zoneId: identity.dns.hosted_zone_id,
    defaultZoneId: settings.defaultHostedZoneId,
    providers: settings.providers,
    fallback: settings.fallback,
  });
  const outcome = await choice.provider.publish(records, choice.zone);

  return {
    // A new provider adds its name to PublishedRecords['provider'] and to the event schemas.
    provider: choice.provider.name as PublishedRecords['provider'],
    provider_reason: `${choice.reason}; ${outcome.detail}`,
    hosted_zone_id: choice.zone?.id ?? null,
    hosted_zone_name: choice.zone?.name ?? null,
    written: outcome.written,
    change_id: outcome.changeId,
    records,
    zone_file: toZoneFileLines(records),
  };
}
