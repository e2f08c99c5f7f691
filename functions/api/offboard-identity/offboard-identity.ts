import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import { keySecretArnOf } from '#shared/dkim/key-secret.js';
import { HttpError } from '#shared/http/errors.js';
import type { RegistryItem } from '#shared/registry/items.js';
import { endStoppedRun, getIdentityItem } from '#shared/registry/registry.js';
import { type DeleteIdentityRequest, deleteFingerprint } from '#shared/request/delete-request.js';
import { identityTypeOf, normaliseEmailIdentity } from '#shared/request/identity-name.js';
import { type RunHandle, type RunStoreConfig, startRun } from '#shared/runs/start-run.js';
import { clock } from '#shared/runtime/clock.js';
import { logger } from '#shared/runtime/observability.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import type { IdentityType } from '#shared/workflow/types.js';

/** The `data` of a 202: the offboarding run, as POST /identities answers with its run. */
export interface RequestedDeletion extends RunHandle {
  identity: string;
  identity_type: IdentityType;
  operation: 'DeleteIdentity';
  /** The run this request stopped (it held the identity), or null. */
  stopped_run: string | null;
}

/**
 * DELETE /identities/{identity}: starts the offboarding run (delete the SES identity, the DKIM
 * records the stack published, a key secret left behind and the registry item, then "Email
 * Identity Deleted"), or finds the one already going. A run that holds the identity is stopped
 * first and ends FAILED in the registry. Throws ValidationError (400), HttpError NOT_FOUND (404)
 * when neither the registry nor SES knows the identity, ConflictError (409) for an identity SES
 * knows but the stack never managed, unless `unmanaged` is true.
 */
export async function requestDeletion(
  pathIdentity: string,
  query: Record<string, string | undefined>,
  config: RunStoreConfig,
): Promise<RequestedDeletion> {
  const identity = normalisedIdentity(pathIdentity);
  const unmanagedAllowed = unmanagedFlag(query.unmanaged);
  const item = await getIdentityItem(config.registryTable, identity);
  const going = item?.active_run_id !== undefined ? item.latest_run : null;
  if (going?.operation === 'DeleteIdentity') {
    return deletionOf(identity, { ...handleOf(going), repeated: true }, null);
  }
  if (item === undefined) {
    const ses = await getEmailIdentity(identity);
    if (ses === null)
      throw new HttpError('NOT_FOUND', `Neither the stack nor SES knows ${identity}`);
    if (!unmanagedAllowed) {
      throw new ConflictError(
        `The stack does not manage ${identity} (no run of this stack created or adopted it), so it will not delete it from SES unasked: to delete the SES identity anyway, send DELETE /identities/${encodeURIComponent(identity)}?unmanaged=true`,
      );
    }
  }

  let stoppedRun: string | null = null;
  let keySecretArn: string | null = null;
  if (going !== null && going !== undefined && item !== undefined) {
    const stop = await stopRun(going.execution_arn, identity);
    keySecretArn = stop.keySecretArn;
    // Ended (or gone) on its own meanwhile, or stopped now: either way it no longer runs, and
    // the registry must no longer say it holds the identity.
    await endStoppedRun(
      config.registryTable,
      identity,
      going.id,
      {
        code: 'CONFLICT',
        message: `Stopped: DELETE /identities/${identity} offboards the identity`,
        retryable: false,
      },
      clock.now(),
    );
    if (stop.stopped) stoppedRun = going.id;
  }

  const request: DeleteIdentityRequest = {
    Operation: 'DeleteIdentity',
    EmailIdentity: identity,
    Unmanaged: item === undefined,
    StoppedRun: stoppedRun,
    KeySecretArn: keySecretArn,
  };
  const run = await startRun(
    {
      identity,
      identityType: identityTypeOf(identity),
      operation: 'DeleteIdentity',
      fingerprint: deleteFingerprint(identity),
      // A new name after whatever ran last (a failed offboarding may be tried again), and for
      // an identity created again later and offboarded again.
      idempotencyKey:
        item === undefined
          ? clock.now().toISOString()
          : `${item.created_at} ${item.latest_run?.id ?? ''}`,
      inputFor: () => request,
    },
    config,
  );
  logger.info('Offboarding', { identity, run: run.id, repeated: run.repeated, stoppedRun });
  return deletionOf(identity, run, stoppedRun);
}

/**
 * Stops the run that holds the identity, if it still runs; returns whether it stopped it, and the
 * key secret its input names, which that run may not have deleted yet. An execution already
 * gone is fine: there is nothing to stop.
 */
async function stopRun(
  executionArn: string,
  identity: string,
): Promise<{ stopped: boolean; keySecretArn: string | null }> {
  let keySecretArn: string | null = null;
  let stopped = false;
  try {
    const execution = await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
    keySecretArn = keySecretArnOf(JSON.parse(execution.input ?? 'null'));
    if (execution.status === 'RUNNING') {
      stopped = true;
      await sfnClient.send(
        new StopExecutionCommand({
          executionArn,
          error: 'OFFBOARDED',
          cause: `DELETE /identities/${identity} stopped this run to offboard the identity`,
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof ExecutionDoesNotExist)) throw error;
    stopped = false;
  }
  return { stopped, keySecretArn };
}

function unmanagedFlag(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError([{ field: 'unmanaged', message: 'must be true or false (query)' }]);
}

function normalisedIdentity(identity: string): string {
  const { value, problems } = normaliseEmailIdentity(identity);
  if (problems.length > 0) {
    throw new ValidationError(problems.map((message) => ({ field: 'identity', message })));
  }
  return value;
}

function handleOf(run: NonNullable<RegistryItem['latest_run']>): Omit<RunHandle, 'repeated'> {
  return {
    id: run.id,
    created_at: run.started_at,
    status: run.status,
    execution_arn: run.execution_arn,
  };
}

function deletionOf(
  identity: string,
  run: RunHandle,
  stoppedRun: string | null,
): RequestedDeletion {
  return {
    id: run.id,
    created_at: run.created_at,
    identity,
    identity_type: identityTypeOf(identity),
    status: run.status,
    execution_arn: run.execution_arn,
    operation: 'DeleteIdentity',
    repeated: run.repeated,
    stopped_run: stoppedRun,
  };
}
