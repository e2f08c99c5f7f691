import {
  type DnsProvider,
  type ProviderChoice,
  type PublishOutcome,
  selectProvider,
} from '#shared/dns/provider.js';
import {
  dkimRecordsFor,
  dmarcRecordFor,
  mailFromRecordsFor,
  toZoneFileLines,
} from '#shared/dns/records.js';
import { DnsPublishError, ServiceUnavailableError } from '#shared/workflow/errors.js';
import type {
  CreatedIdentity,
  DkimDnsRecord,
  DmarcOutcome,
  PublishedRecords,
} from '#shared/workflow/types.js';

export interface PublishSettings {
  /** Providers that find zones, in the order the default rule tries them (route53). */
  providers: DnsProvider[];
  /** The provider used when none of them holds a zone (manual). */
  fallback: DnsProvider;
  /** TTL of the records, in seconds. */
  ttl: number;
  /** The deployment's default hosted zone, used when the request names none. */
  defaultHostedZoneId: string | null;
  /** The Region SES runs in: a MAIL FROM MX record names its feedback endpoint. */
  region: string;
  /** TXT records at a name as DNS answers now (for DMARC, where no provider zone can tell). */
  lookupTxt: (name: string) => Promise<string[]>;
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
      dmarc: null,
    };
  }

  const dkimRecords = dkimRecordsFor(identity, { ttl: settings.ttl });
  // A DEED replica needs no DKIM records: its parent's CNAMEs, in the parent's Region, serve it.
  const replica = identity.dkim?.parent_region != null;
  if (dkimRecords.length === 0 && !replica) {
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
  const parts = identity.parts ?? null;
  const records = [
    ...dkimRecords,
    ...(parts?.mail_from
      ? mailFromRecordsFor(parts.mail_from, settings.region, { ttl: settings.ttl })
      : []),
  ];
  let dmarc: DmarcOutcome | null = null;
  if (parts?.dmarc) {
    const ours = dmarcRecordFor(identity.identity, parts.dmarc, { ttl: settings.ttl });
    const existing = (await existingDmarc(ours.name, choice, settings)).filter(isDmarc);
    if (existing.length > 0 && !existing.includes(ours.value)) {
      // The domain owner's policy stands: reported, never overwritten.
      dmarc = { action: 'EXISTING', name: ours.name, value: existing.join(' | ') };
    } else {
      records.push(ours);
      dmarc = { action: 'PUBLISHED', name: ours.name, value: ours.value };
    }
  }
  const outcome = await publishByPart(choice, records);
  if (dmarc?.action === 'PUBLISHED' && !outcome.written) dmarc = { ...dmarc, action: 'REQUIRED' };

  return {
    // A new provider adds its name to PublishedRecords['provider'] and to the event schemas.
    provider: choice.provider.name as PublishedRecords['provider'],
    provider_reason: outcome.detail === '' ? choice.reason : `${choice.reason}; ${outcome.detail}`,
    hosted_zone_id: choice.zone?.id ?? null,
    hosted_zone_name: choice.zone?.name ?? null,
    written: outcome.written,
    change_id: outcome.changeId,
    records,
    zone_file: toZoneFileLines(records),
    dmarc,
  };
}

/**
 * One change per part (DKIM, then MAIL FROM, then DMARC): each part's Route 53 permissions are
 * their own (template.yaml, PublishDnsRecordsFunction), and IAM judges a change batch as a whole.
 */
async function publishByPart(
  choice: ProviderChoice,
  records: DkimDnsRecord[],
): Promise<PublishOutcome> {
  const groups = new Map<string, DkimDnsRecord[]>();
  for (const record of records) {
    const part = record.part ?? 'dkim';
    groups.set(part, [...(groups.get(part) ?? []), record]);
  }
  const outcomes: PublishOutcome[] = [];
  for (const group of groups.values()) {
    outcomes.push(await choice.provider.publish(group, choice.zone));
  }
  return {
    written: outcomes.every((outcome) => outcome.written),
    changeId: outcomes.map((outcome) => outcome.changeId).find((id) => id !== null) ?? null,
    detail: outcomes.map((outcome) => outcome.detail).join('; '),
  };
}

const isDmarc = (text: string) => /^v=DMARC1\s*(;|$)/i.test(text.trim());

/**
 * The TXT records at `_dmarc.{domain}` now: in the provider's zone, which an UPSERT would
 * overwrite, or, for a provider without zones (manual), in DNS. A look-up that fails is a
 * transient error: publishing blind could overwrite a policy.
 */
async function existingDmarc(
  name: string,
  choice: ProviderChoice,
  settings: PublishSettings,
): Promise<string[]> {
  if (choice.provider.valuesAt !== undefined) {
    return choice.provider.valuesAt(name, 'TXT', choice.zone);
  }
  try {
    return await settings.lookupTxt(name);
  } catch (error) {
    throw new ServiceUnavailableError(
      `Could not look up ${name} to see whether a DMARC record exists: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
