import type { RecordRemover } from '#shared/dns/provider.js';
import type {
  CreatedIdentity,
  DkimDnsRecord,
  PublishedRecords,
  StaleRecordCleanup,
} from '#shared/workflow/types.js';

export interface RemoveStaleRecordsInput {
  identity: CreatedIdentity;
  dns: PublishedRecords;
}

/**
 * After a DKIM change is verified, deletes the records the old signing used, through the provider
 * that published the new ones. Runs only once SES reports SUCCESS for the new records, so signing
 * never breaks. With the manual provider nothing is deleted: the result lists what a person
 * should remove.
 */
export async function removeStaleRecords(
  input: RemoveStaleRecordsInput,
  providers: RecordRemover[],
): Promise<StaleRecordCleanup> {
  const stale = input.identity.change?.stale_records ?? [];
  const provider = providers.find((p) => p.name === input.dns.provider);
  if (stale.length === 0) {
    return cleanup(input, [], [], 'The change left no stale DKIM records.');
  }
  if (
    !provider?.remove ||
    input.dns.hosted_zone_id === null ||
    input.dns.hosted_zone_name === null
  ) {
    return cleanup(
      input,
      [],
      stale,
      `The records were not published by a provider that can delete: remove the ${stale.length} stale record(s) by hand.`,
    );
  }
  // The provider reads the current values itself: only name and type identify what to delete.
  const records: DkimDnsRecord[] = stale.map((r) => ({ ...r, value: '', ttl: 0 }));
  const outcome = await provider.remove(records, {
    id: input.dns.hosted_zone_id,
    name: input.dns.hosted_zone_name,
  });
  // Stale records are DKIM's (CNAME or TXT), so are the ones removed.
  const removed = outcome.removed.map(({ type, name }) => ({
    type: type as StaleRecordCleanup['removed_records'][number]['type'],
    name,
  }));
  return cleanup(input, removed, [], outcome.detail);
}

function cleanup(
  input: RemoveStaleRecordsInput,
  removed: StaleRecordCleanup['removed_records'],
  remaining: StaleRecordCleanup['remaining_stale_records'],
  detail: string,
): StaleRecordCleanup {
  return {
    provider: input.dns.provider,
    removed_records: removed,
    remaining_stale_records: remaining,
    detail,
  };
}
