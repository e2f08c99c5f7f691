import { clock } from '#shared/runtime/clock.js';
import { lambdaHandler, logger } from '#shared/runtime/observability.js';
import type { ReplicaCheck } from '#shared/ses/replica-identity.js';
import { type CheckReplicaInput, checkReplica } from './check-replica.js';

/**
 * CheckReplica (run by the SES request worker, in the reads lane of the replica's Region): one
 * look at a DEED replica; READY, FAILED, or PENDING with the seconds until the next look.
 */
export async function checkReplicaStep(event: CheckReplicaInput): Promise<ReplicaCheck> {
  const result = await checkReplica(event, clock.now());
  logger.info('Checked replica', {
    identity: event.identity,
    region: result.region,
    status: result.status,
    checks: result.checks,
  });
  return result;
}

export const handler = lambdaHandler(checkReplicaStep);
