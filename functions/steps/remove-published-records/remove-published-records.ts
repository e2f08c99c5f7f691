import type { RecordRemover } from '#shared/dns/provider.js';
import type { RegistryItem } from '#shared/registry/items.js';
import type { DkimDnsRecord, PublishedRecords } from '#shared/workflow/types.js';

/** What offboarding did with the DKIM records the stack published for an identity. */
export interface PublishedRecordsRemoval {
  provider: 'route53' | 'manual' | null;
  hosted_zone_id: string | null;
  /** Records deleted from the provider's zone now. */
  removed_records: DkimDnsRecord[];
  /** Records the stack did not write (manual DNS): a person should remove them. */
  records_to_remove_by_hand: DkimDnsRecord[];
  detail: string;
}

/**
 * Removes exactly the DKIM records the registry says the stack published for the identity, through
 * the provider that published them, and nothing else: records of a manual identity are listed for
 * a person to remove, and an identity the stack never published records for (an address, an
 * unmanaged identity, a run stopped before its first look) has none to remove.
 */
export async function removePublishedRecords(
  item: Pick<RegistryItem, 'published_json' | 'records_json'> | undefined,
  providers: RecordRemover[],
): Promise<PublishedRecordsRemoval> {
  const published =
    item?.published_json === undefined
      ? null
      : (JSON.parse(item.published_json) as PublishedRecords | null);
  const records = published?.records ?? [];
  if (published === null || records.length === 0) {
    return outcome(published, [], [], 'The stack published no DKIM records for this identity.');
  }
  const provider = providers.find((p) => p.name === published.provider);
  if (
    !published.written ||
    provider?.remove === undefined ||
    published.hosted_zone_id === null ||
    published.hosted_zone_name === null
  ) {
    return outcome(
      published,
      [],
      records,
      `The stack did not write these ${records.length} record(s) (${published.provider} DNS): remove them by hand.`,
    );
  }
  // DKIM records die with the identity. MAIL FROM and DMARC records stay in the domain owner's
  // hands (a DMARC policy covers all the domain's mail, not only SES's): listed, not deleted.
  const dkim = records.filter((record) => (record.part ?? 'dkim') === 'dkim');
  const kept = records.filter((record) => (record.part ?? 'dkim') !== 'dkim');
  const removal = await provider.remove(dkim, {
    id: published.hosted_zone_id,
    name: published.hosted_zone_name,
  });
  return outcome(
    published,
    removal.removed,
    kept,
    kept.length === 0
      ? removal.detail
      : `${removal.detail}; the ${kept.length} MAIL FROM and DMARC record(s) the stack published are left in place: remove them by hand if nothing else sends for the domain.`,
  );
}

function outcome(
  published: PublishedRecords | null,
  removed: DkimDnsRecord[],
  byHand: DkimDnsRecord[],
  detail: string,
): PublishedRecordsRemoval {
  return {
    provider: published?.provider ?? null,
    hosted_zone_id: published?.hosted_zone_id ?? null,
    removed_records: removed,
    records_to_remove_by_hand: byHand,
    detail,
  };
}
