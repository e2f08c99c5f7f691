import { storeTaskToken } from '#shared/registry/registry.js';
import { clock } from '#shared/runtime/clock.js';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger } from '#shared/runtime/observability.js';
import { ConflictError } from '#shared/workflow/errors.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');

/** What AwaitVerification receives: whose token this is. */
export interface AwaitInput {
  identity: string;
  execution_id: string;
  task_token: string;
}

/**
 * AwaitVerification (lambda:invoke.waitForTaskToken): leaves the run's task token in the
 * registry, where the sweeper and "check now" find it, and returns; the run sleeps until one of
 * them sends it, or until its look is due. A run that no longer holds its identity (it was
 * offboarded meanwhile) fails at once rather than wait for a token nobody can find.
 */
export const handler = lambdaHandler(async (event: AwaitInput) => {
  const stored = await storeTaskToken(
    registryTable,
    event.identity,
    event.execution_id,
    event.task_token,
    clock.now(),
  );
  if (!stored) {
    throw new ConflictError(`Run ${event.execution_id} no longer holds ${event.identity}`);
  }
  logger.info('Waiting to be woken', { identity: event.identity });
  return { waiting: true };
});
