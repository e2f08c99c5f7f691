import { keyHandOffFor } from '#shared/dkim/key-secret.js';
import {
  type IdentityRequest,
  identityTypeOf,
  parseIdentityRequest,
} from '#shared/request/index.js';
import {
  idempotencyKeyIssue,
  type RunHandle,
  type RunStoreConfig,
  runFingerprint,
  startRun,
  withKeyInSecret,
} from '#shared/runs/start-run.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { IdentityType } from '#shared/workflow/types.js';

export interface StartVerificationConfig extends RunStoreConfig {
  /** Name prefix of the key secrets; the IAM policies are scoped to it. */
  keySecretPrefix: string;
}

/** The `data` of a 202 response. */
export interface StartedVerification extends RunHandle {
  identity: string;
  identity_type: IdentityType;
}

/**
 * Starts the verification workflow for an API request body: validates it, moves a supplied
 * private key into Secrets Manager, and starts a run (or finds the one this request has, see
 * startRun). Throws ValidationError (400), ConflictError (409) or an AWS SDK error.
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
      identityType: identityTypeOf(identity),
      operation: 'CreateIdentity',
      fingerprint: runFingerprint(request, 'DkimSigningAttributes'),
      idempotencyKey: options.idempotencyKey,
      keyHandOff: keyHandOffFor(
        identity,
        request.DkimSigningAttributes?.DomainSigningPrivateKey,
        config.keySecretPrefix,
      ),
      inputFor: (secretArn) => executionInputFor(request, secretArn),
      creationRequest: request,
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

/** The state machine input: the request, with the key (if any) swapped for its secret's ARN. */
export function executionInputFor(
  request: IdentityRequest,
  secretArn: string | undefined,
): IdentityRequest {
  return withKeyInSecret(request, 'DkimSigningAttributes', secretArn);
}
