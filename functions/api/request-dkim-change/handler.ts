import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { apiHandler, headerValue, parseJsonBody, pathIdentity } from '#shared/http/index.js';
import { requireEnv } from '#shared/runtime/config.js';
import { metrics } from '#shared/runtime/observability.js';
import { requestDkimChange } from './request-dkim-change.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  keySecretPrefix: requireEnv('KEY_SECRET_PREFIX'),
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
};

/**
 * PUT /identities/{identity}/dkim: 202 with the change run's id, or an error envelope
 * (400, 404, 409, 413, 415, 429, 500).
 */
export const handler = apiHandler(async (event) => {
  const result = await requestDkimChange(pathIdentity(event), parseJsonBody(event), config, {
    idempotencyKey: headerValue(event, 'idempotency-key'),
  });
  metrics.addMetric(result.repeated ? 'RepeatedRequest' : 'DkimChangeStarted', MetricUnit.Count, 1);
  return { status: 202, data: result };
});
