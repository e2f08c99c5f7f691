import type { RunOperation, RunStarter } from '#shared/registry/items.js';
import { claimIdentity } from '#shared/registry/registry.js';
import {
  type DeleteIdentityRequest,
  type DkimChangeRequest,
  deleteFingerprint,
  type IdentityRequest,
  identityTypeOf,
  isDeleteRequest,
  isDkimChangeRequest,
  parseDeleteRequest,
  parseDkimChangeRequest,
  parseIdentityRequest,
} from '#shared/request/index.js';
import { requestFingerprint } from '#shared/runs/request-fingerprint.js';
import { restartSettingsFor } from '#shared/runs/restart-request.js';
import { initialReplicasReadiness, type ReplicasReadiness } from '#shared/ses/replicas.js';
import { ConflictError } from '#shared/workflow/errors.js';
import type { IdentityType } from '#shared/workflow/types.js';

/** What ClaimIdentity receives: the raw request and the execution it runs in. */
export interface ClaimInput {
  request: unknown;
  execution_id: string;
  execution_arn: string;
}

/** What the rest of the run knows once it holds the identity. */
export interface Claim {
  /** The normalised identity: the registry's key. */
  identity: string;
  identity_type: IdentityType;
  operation: RunOperation;
  /** `readiness.replicas` as the run starts: each requested DEED Region PENDING, or NOT_REQUESTED. */
  replicas: ReplicasReadiness;
  /** Who started the run: a request, or the sweeper's automatic restart (the events say so). */
  started_by: RunStarter;
}

/**
 * Validates the request with the shared schema (a key only as a secret's ARN: this input is in
 * the execution history) and claims its identity for this run in the registry. A run the API or
 * the onboarding starter started holds it already; one started by hand takes it now, unless
 * another run holds it (ConflictError, naming that run).
 */
export async function claimForRun(
  input: ClaimInput,
  registryTable: string,
  now: Date,
): Promise<Claim> {
  const change = isDkimChangeRequest(input.request);
  const deletion = isDeleteRequest(input.request);
  const request: IdentityRequest | DkimChangeRequest | DeleteIdentityRequest = deletion
    ? parseDeleteRequest(input.request)
    : change
      ? parseDkimChangeRequest(input.request, { keyDelivery: 'secret' })
      : parseIdentityRequest(input.request, { keyDelivery: 'secret' });
  const identity = request.EmailIdentity;
  const identityType = identityTypeOf(identity);
  const operation: RunOperation = deletion
    ? 'DeleteIdentity'
    : change
      ? 'ChangeDkimSigning'
      : 'CreateIdentity';
  const outcome = await claimIdentity(
    registryTable,
    identity,
    identityType,
    {
      id: input.execution_id,
      execution_arn: input.execution_arn,
      operation,
      request_hash:
        'Unmanaged' in request ? deleteFingerprint(identity) : requestFingerprint(request),
      started_at: now.toISOString(),
      status: 'PENDING',
      reason: null,
      ended_at: null,
    },
    now,
    // A run started by hand keeps what a start through the API would keep.
    restartSettingsFor(
      operation,
      operation === 'CreateIdentity' ? (request as IdentityRequest) : undefined,
    ),
  );
  if (!outcome.claimed && outcome.item.active_run_id !== input.execution_id) {
    throw new ConflictError(
      outcome.item.active_run_id === undefined
        ? `${identity} was already worked on by this run, which has ended`
        : `Another run (${outcome.item.active_run_id}) is working on ${identity}; wait for it to finish`,
    );
  }
  const replicas = initialReplicasReadiness(
    'Replicas' in request ? (request as IdentityRequest).Replicas : undefined,
  );
  const startedBy = outcome.claimed ? undefined : outcome.item.latest_run?.started_by;
  return {
    identity,
    identity_type: identityType,
    operation,
    started_by: startedBy ?? 'REQUEST',
    replicas,
  };
}
