import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { probeRecords } from '#shared/dns/probe.js';
import { integerEnv, listEnv, optionalEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { type CheckInput, checkIdentity } from './check-identity.js';

const probeOptions = {
  resolvers: listEnv('DNS_RESOLVERS'),
  timeoutMs: integerEnv('DNS_QUERY_TIMEOUT_MS', 2000),
  totalTimeoutMs: integerEnv('DNS_PROBE_TIMEOUT_MS', 10_000),
  queryAuthoritative: optionalEnv('DNS_QUERY_AUTHORITATIVE') !== 'false',
  authoritativePort: integerEnv('DNS_AUTHORITATIVE_PORT', 53),
};

const OUTCOME_METRIC = {
  VERIFIED: 'IdentityVerified',
  FAILED: 'DkimFailed',
  TIMED_OUT: 'VerificationTimedOut',
  PENDING: 'CheckPending',
} as const;

/** CheckVerification: one look at SES and DNS; VERIFIED, FAILED, TIMED_OUT or PENDING (with the next wait). */
export const handler = lambdaHandler(async (event: CheckInput) => {
  const result = await checkIdentity(event, (records) =>
    probeRecords(records, { ...probeOptions, domain: event.identity.identity }),
  );
  logger.info('Checked identity', {
    identity: event.identity.identity,
    outcome: result.outcome,
    dkimStatus: result.dkim_status,
    checks: result.checks,
    nextCheckSeconds: result.next_check_seconds,
    probe: result.probe.map((r) => `${r.name} ${r.status}`),
  });
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  return result;
});
