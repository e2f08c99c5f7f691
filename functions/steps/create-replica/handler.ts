import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { clock } from '#shared/runtime/clock.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import type { ReplicaCheck } from '#shared/ses/replica-identity.js';
import { createReplica, type ReplicaInput } from './create-replica.js';

/**
 * CreateReplica (run by the SES request worker, in the lane of its Region): the DEED replica of
 * the verified parent identity in one other Region.
 */
export async function createReplicaStep(event: ReplicaInput): Promise<ReplicaCheck> {
  const result = await createReplica(event, clock.now());
  logger.info('Replica created', {
    identity: event.identity,
    region: event.region,
    status: result.status,
    detail: result.detail,
  });
  metrics.addMetric(
    result.status === 'FAILED' ? 'ReplicaFailed' : 'ReplicaCreated',
    MetricUnit.Count,
    1,
  );
  return result;
}

export const handler = lambdaHandler(createReplicaStep);
