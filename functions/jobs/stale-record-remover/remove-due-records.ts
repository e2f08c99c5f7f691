import type { RecordRemover } from '#shared/dns/provider.js';
import type { RegistryItem, StaleRemovalBatch } from '#shared/registry/items.js';
import type { DkimDnsRecord, StaleRecord, StaleRecordRemoval } from '#shared/workflow/types.js';

/** What one run of the remover did. */
export interface RemovalReport {
  /** Items with batches due. */
  items: number;
  removed_records: StaleRecord[];
  /** Records of due batches kept because the identity's current signing uses that name again. */
  kept_in_use: StaleRecord[];
  /** Batches left for the next run: a provider error, or a batch added meanwhile. */
  deferred: number;
}

export interface RemovalSettings {
  now: Date;
  graceDays: number;
  /** The items whose oldest batch began at or before the cutoff. */
  dueItems: (cutoff: string) => AsyncIterable<RegistryItem>;
  /** Writes back the batches not removed; false when the item changed since it was read. */
  replaceBatches: (
    identity: string,
    readCount: number,
    remaining: StaleRemovalBatch[],
  ) => Promise<boolean>;
  remover: RecordRemover;
  onError?: (identity: string, error: unknown) => void;
}

/**
 * Removes the stale DKIM records whose grace period is over: for every registry item with a due
 * batch, deletes the records the stack published (through the provider and zone recorded with
 * the batch), never a record the identity's current signing uses (a rotation back to an old
 * selector makes it live again), and never a record the stack did not publish. A batch whose
 * removal fails stays for the next run; DELETE of a record already gone is skipped.
 */
export async function removeDueRecords(settings: RemovalSettings): Promise<RemovalReport> {
  const cutoff = new Date(
    settings.now.getTime() - settings.graceDays * 24 * 3600_000,
  ).toISOString();
  const report: RemovalReport = { items: 0, removed_records: [], kept_in_use: [], deferred: 0 };
  for await (const item of settings.dueItems(cutoff)) {
    report.items += 1;
    const batches = item.stale_removals ?? [];
    const inUse = currentRecordKeys(item);
    const remaining: StaleRemovalBatch[] = [];
    for (const batch of batches) {
      if (batch.since > cutoff) {
        remaining.push(batch);
        continue;
      }
      const removal = JSON.parse(batch.removal_json) as StaleRecordRemoval;
      const stale = removal.records.filter((r) => !inUse.has(keyOf(r)));
      report.kept_in_use.push(...removal.records.filter((r) => inUse.has(keyOf(r))));
      if (
        stale.length === 0 ||
        removal.provider === null ||
        removal.hosted_zone_id === null ||
        removal.hosted_zone_name === null
      ) {
        continue;
      }
      const provider = settings.remover;
      if (provider.name !== removal.provider || provider.remove === undefined) {
        remaining.push(batch);
        report.deferred += 1;
        continue;
      }
      try {
        // The provider reads the current values itself: name and type identify what to delete.
        const records: DkimDnsRecord[] = stale.map((r) => ({ ...r, value: '', ttl: 0 }));
        const outcome = await provider.remove(records, {
          id: removal.hosted_zone_id,
          name: removal.hosted_zone_name,
        });
        // Stale records are DKIM's (CNAME or TXT), so are the ones removed.
        report.removed_records.push(
          ...outcome.removed.map(({ type, name }) => ({ type: type as StaleRecord['type'], name })),
        );
      } catch (error) {
        settings.onError?.(item.identity, error);
        remaining.push(batch);
        report.deferred += 1;
      }
    }
    const written = await settings.replaceBatches(item.identity, batches.length, remaining);
    if (!written) report.deferred += remaining.length;
  }
  return report;
}

const keyOf = (record: { type: string; name: string }) =>
  `${record.type} ${record.name.toLowerCase()}`;

/** The records the identity's signing needs now, as the registry's latest look recorded them. */
function currentRecordKeys(item: RegistryItem): Set<string> {
  if (item.records_json === undefined) return new Set();
  const records = JSON.parse(item.records_json) as DkimDnsRecord[] | null;
  return new Set((records ?? []).map(keyOf));
}
