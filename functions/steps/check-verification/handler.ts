import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { probeRecords } from '#shared/dns/probe.js';
import { probeOptionsFromEnv } from '#shared/dns/probe-config.js';
import { recordCheck } from '#shared/registry/registry.js';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { type CheckInput, checkIdentity } from './check-identity.js';

const probeOptions = probeOptionsFromEnv();

const registryTable = requireEnv('REGISTRY_TABLE_NAME');

const OUTCOME_METRIC = {
  VERIFIED: 'IdentityVerified',
  FAILED: 'DkimFailed',
  TIMED_OUT: 'VerificationTimedOut',
  PENDING: 'CheckPending',
  RECORDS_READY: 'NewRecordsReady',
} as const;

/**
 * CheckVerification (run by the SES request worker): one look at SES and DNS; VERIFIED, FAILED,
 * TIMED_OUT or PENDING (with the seconds until the run's own next look). The registry keeps what
 * it found, for GET, "check now" and offboarding.
 */
export const handler = lambdaHandler(async (event: CheckInput) => {
  const result = await checkIdentity(event, (records) =>
    probeRecords(records, { ...probeOptions, domain: event.identity.identity }),
  );
  logger.info('Checked identity', {
    identity: event.identity.identity,
    outcome: result.outcome,
    dkimStatus: result.dkim_status,
    readiness: Object.fromEntries(
      Object.entries(result.readiness ?? {}).map(([name, part]) => [name, part.status]),
    ),
    checks: result.checks,
    nextCheckSeconds: result.next_check_seconds,
    probe: result.probe.map((r) => `${r.name} ${r.status}`),
  });
  if (event.execution_id !== null && result.checked_at !== null) {
    await recordCheck(registryTable, event.identity.identity, event.execution_id, {
      dkim_status: result.dkim_status,
      records: event.dns.records,
      published: event.dns,
      probe: result.probe,
      readiness: result.readiness,
      checked_at: result.checked_at,
    });
  }
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  return result;
});
