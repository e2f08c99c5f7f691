import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { apiHandler, pathIdentity } from '#shared/http/index.js';
import { requireEnv } from '#shared/runtime/config.js';
import { metrics } from '#shared/runtime/observability.js';
import { requestDeletion } from './offboard-identity.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
};

/**
 * DELETE /identities/{identity}[?unmanaged=true]: 202 with the offboarding run (the same run for a
 * repeat while it goes), or an error envelope (400, 404, 409, 429, 500).
 */
export const handler = apiHandler(async (event) => {
  const result = await requestDeletion(
    pathIdentity(event),
    event.queryStringParameters ?? {},
    config,
  );
  metrics.addMetric(
    result.repeated ? 'RepeatedRequest' : 'OffboardingStarted',
    MetricUnit.Count,
    1,
  );
  return { status: 202, data: result };
});
