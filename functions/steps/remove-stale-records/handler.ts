import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Route53RecordSets } from '#shared/dns/route53-record-sets.js';
import { integerEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { type RemoveStaleRecordsInput, removeStaleRecords } from './remove-stale-records.js';

// Only record changes: removing records never looks zones up (the run knows the zone).
const providers = [
  new Route53RecordSets({ changeWaitMs: integerEnv('DNS_CHANGE_WAIT_MS', 60_000) }),
];

/** RemoveStaleRecords: after a verified DKIM change, delete the old signing's records. */
export const handler = lambdaHandler(async (event: RemoveStaleRecordsInput) => {
  const result = await removeStaleRecords(event, providers);
  logger.info('Stale DKIM records', {
    identity: event.identity.identity,
    removed: result.removed_records.map((r) => `${r.type} ${r.name}`),
    remaining: result.remaining_stale_records.map((r) => `${r.type} ${r.name}`),
    detail: result.detail,
  });
  metrics.addMetric('StaleDkimRecordsRemoved', MetricUnit.Count, result.removed_records.length);
  return result;
});
