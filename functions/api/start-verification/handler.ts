import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { apiHandler, headerValue, parseJsonBody } from '#shared/http/index.js';
import { requireEnv } from '#shared/runtime/config.js';
import { metrics } from '#shared/runtime/observability.js';
import { startVerification } from './start-verification.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  keySecretPrefix: requireEnv('KEY_SECRET_PREFIX'),
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
};

/** POST /identities: 202 with the run's id, or an error envelope (400, 409, 413, 415, 429, 500). */
export const handler = apiHandler(async (event) => {
  const result = await startVerification(parseJsonBody(event), config, {
    idempotencyKey: headerValue(event, 'idempotency-key'),
  });
  metrics.addMetric(
    result.repeated ? 'RepeatedRequest' : 'VerificationStarted',
    MetricUnit.Count,
    1,
  );
  return { status: 202, data: result };
});
