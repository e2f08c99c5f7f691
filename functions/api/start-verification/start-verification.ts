import {
  type IdentityRequest,
  identityTypeOf,
  parseIdentityRequest,
} from '#shared/request/index.js';
import {
  idempotencyKeyIssue,
  type RunHandle,
  type RunStoreConfig,
  requestHash,
  startRun,
  withKeyInSecret,
} from '#shared/runs/start-run.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { IdentityType } from '#shared/workflow/types.js';

export type StartVerificationConfig = RunStoreConfig;

/** The `data` of a 202 response. */
export interface StartedVerification extends RunHandle {
  identity: string;
  identity_type: IdentityType;
}

/**
 * Starts the verification workflow for an API request body: validates it, moves a supplied
 * private key into Secrets Manager, and starts (or finds) the execution named after the request.
 * Throws ValidationError (400), ConflictError (409) or an AWS SDK error.
 */
export async function startVerification(
  body: unknown,
  config: StartVerificationConfig,
  options: { idempotencyKey?: string } = {},
): Promise<StartedVerification> {
  const keyIssue = idempotencyKeyIssue(options.idempotencyKey);
  if (keyIssue !== null) throw new ValidationError([keyIssue]);
  const request = parseIdentityRequest(body, { keyDelivery: 'inline' });
  const identity = request.EmailIdentity;
  const run = await startRun(
    {
      identity,
      requestHash: requestHashOf(request, options.idempotencyKey),
      privateKey: request.DkimSigningAttributes?.DomainSigningPrivateKey,
      inputFor: (secretArn) => executionInputFor(request, secretArn),
    },
    config,
  );
  return {
    id: run.id,
    created_at: run.created_at,
    identity,
    identity_type: identityTypeOf(identity),
    status: run.status,
    execution_arn: run.execution_arn,
    repeated: run.repeated,
  };
}

/** The hash that names the execution (see {@link requestHash}). */
export function requestHashOf(request: IdentityRequest, idempotencyKey?: string): string {
  return requestHash(request, 'DkimSigningAttributes', idempotencyKey);
}

/** The state machine input: the request, with the key (if any) swapped for its secret's ARN. */
export function executionInputFor(
  request: IdentityRequest,
  secretArn: string | undefined,
): IdentityRequest {
  return withKeyInSecret(request, 'DkimSigningAttributes', secretArn);
}
