import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  getIdentityStatus,
  type IdentityStatus,
} from '#api/get-identity-status/get-identity-status.js';
import { apiHandler, headerValue, parseJsonBody, pathIdentity } from '#shared/http/index.js';
import { integerEnv, optionalEnv, requireEnv } from '#shared/runtime/config.js';
import { metrics } from '#shared/runtime/observability.js';
import { type RequestedDkimChange, requestDkimChange } from './request-dkim-change.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  keySecretPrefix: requireEnv('KEY_SECRET_PREFIX'),
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
  recordTtl:
    optionalEnv('DNS_RECORD_TTL') === undefined ? undefined : integerEnv('DNS_RECORD_TTL', 1),
};

/**
 * PUT /identities/{identity}/dkim: 202 with the change run's id; 200 with the identity as GET
 * shows it when SES already signs as asked (no run); or an error envelope (400, 404, 409, 413,
 * 415, 429, 500).
 */
export const handler = apiHandler<IdentityStatus | RequestedDkimChange>(async (event) => {
  const outcome = await requestDkimChange(pathIdentity(event), parseJsonBody(event), config, {
    idempotencyKey: headerValue(event, 'idempotency-key'),
  });
  if ('unchanged' in outcome) {
    metrics.addMetric('DkimChangeUnneeded', MetricUnit.Count, 1);
    return { status: 200, data: await getIdentityStatus(outcome.unchanged.identity, config) };
  }
  const result = outcome.started;
  metrics.addMetric(result.repeated ? 'RepeatedRequest' : 'DkimChangeStarted', MetricUnit.Count, 1);
  return { status: 202, data: result };
});
