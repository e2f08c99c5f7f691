import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Route53RecordSets } from '#shared/dns/route53-record-sets.js';
import { getIdentityItem } from '#shared/registry/registry.js';
import { integerEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { removePublishedRecords } from './remove-published-records.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');
// Only record changes: the registry knows the zone the records were published in.
const providers = [
  new Route53RecordSets({ changeWaitMs: integerEnv('DNS_CHANGE_WAIT_MS', 60_000) }),
];

/** RemovePublishedRecords: offboarding deletes the DKIM records the stack published. */
export const handler = lambdaHandler(async (event: { identity: string }) => {
  const item = await getIdentityItem(registryTable, event.identity);
  const result = await removePublishedRecords(item, providers);
  logger.info('Published DKIM records', {
    identity: event.identity,
    removed: result.removed_records.map((r) => `${r.type} ${r.name}`),
    byHand: result.records_to_remove_by_hand.map((r) => `${r.type} ${r.name}`),
    detail: result.detail,
  });
  metrics.addMetric('PublishedDkimRecordsRemoved', MetricUnit.Count, result.removed_records.length);
  return result;
});
