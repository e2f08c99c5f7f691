import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Route53RecordSets } from '#shared/dns/route53-record-sets.js';
import { itemsWithStaleRecordsSince, replaceStaleRemovals } from '#shared/registry/registry.js';
import { clock } from '#shared/runtime/clock.js';
import { integerEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { removeDueRecords } from './remove-due-records.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');
const graceDays = integerEnv('STALE_DKIM_RECORD_GRACE_DAYS', 7);
// Only record changes: the zone of each batch was recorded when the change verified.
const remover = new Route53RecordSets({ changeWaitMs: integerEnv('DNS_CHANGE_WAIT_MS', 60_000) });

/**
 * The stale-record remover (EventBridge Scheduler, every hour; one at a time): deletes the old
 * DKIM records of verified changes once their grace period is over.
 */
export const handler = lambdaHandler(async () => {
  const report = await removeDueRecords({
    now: clock.now(),
    graceDays,
    dueItems: (cutoff) => itemsWithStaleRecordsSince(registryTable, cutoff),
    replaceBatches: (identity, readCount, remaining) =>
      replaceStaleRemovals(registryTable, identity, readCount, remaining),
    remover,
    onError: (identity, error) =>
      logger.warn('Removing stale DKIM records failed; kept for the next run', {
        identity,
        errorName: error instanceof Error ? error.name : typeof error,
        errorMessage: error instanceof Error ? error.message : String(error),
      }),
  });
  if (report.items > 0) {
    logger.info('Stale DKIM records removed', {
      removed: report.removed_records.map((r) => `${r.type} ${r.name}`),
      keptInUse: report.kept_in_use.map((r) => `${r.type} ${r.name}`),
      deferred: report.deferred,
    });
  }
  metrics.addMetric('StaleDkimRecordsRemoved', MetricUnit.Count, report.removed_records.length);
  return report;
});
