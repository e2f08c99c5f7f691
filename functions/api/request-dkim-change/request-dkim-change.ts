import { keyHandOffFor } from '#shared/dkim/key-secret.js';
import {
  isKeyLengthChange,
  keyLengthChangeRefusal,
  type SigningSnapshot,
  signingSnapshotOf,
} from '#shared/dkim/signing.js';
import { HttpError } from '#shared/http/errors.js';
import {
  capFieldIssues,
  checkDkimChangeRequest,
  type DkimChangeRequest,
} from '#shared/request/index.js';
import {
  idempotencyKeyIssue,
  type RunHandle,
  type RunStoreConfig,
  runFingerprint,
  startRun,
  withKeyInSecret,
} from '#shared/runs/start-run.js';
import { clock } from '#shared/runtime/clock.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { ConflictError, type FieldIssue, ValidationError } from '#shared/workflow/errors.js';

export interface RequestDkimChangeConfig extends RunStoreConfig {
  /** Name prefix of the key secrets; the IAM policies are scoped to it. */
  keySecretPrefix: string;
}

/**
 * What a change request came to: a run (new or the one it already has), or nothing to do,
 * because SES already signs the identity as asked.
 */
export type DkimChangeOutcome =
  | { started: RequestedDkimChange }
  | { unchanged: { identity: string } };

/**
 * Thrown by the pre-start check when SES already signs as asked: no run starts (the registry
 * is not claimed, no key is stored), and the route answers with the identity as it is.
 */
class NothingToChange extends Error {
  override name = 'NothingToChange';
}

/** The `data` of a 202 response: the envelope of POST /identities, plus what is changing. */
export interface RequestedDkimChange extends RunHandle {
  identity: string;
  identity_type: 'DOMAIN';
  operation: 'ChangeDkimSigning';
  /** The origin the identity signs with once the change is done. */
  signing_attributes_origin: DkimChangeRequest['SigningAttributesOrigin'];
}

/** Body fields only the route sets: the path names the identity, the route the operation. */
const ROUTE_FIELDS = {
  EmailIdentity: 'is not a known field: the identity comes from the path',
  Operation: 'is not a known field: PUT /identities/{identity}/dkim always changes DKIM signing',
} as const;

/**
 * PUT /identities/{identity}/dkim: validates the change (path identity + SES's
 * PutEmailIdentityDkimSigningAttributes body), checks with SES that the identity exists and that
 * a key length change is allowed today, moves a supplied key into Secrets Manager and starts (or
 * finds) the run named after the change. Throws ValidationError (400), HttpError NOT_FOUND (404),
 * ConflictError (409) or an AWS SDK error.
 */
export async function requestDkimChange(
  pathIdentity: string,
  body: unknown,
  config: RequestDkimChangeConfig,
  options: { idempotencyKey?: string } = {},
): Promise<DkimChangeOutcome> {
  const request = dkimChangeRequestOf(pathIdentity, body, options.idempotencyKey);
  const key = request.SigningAttributes?.DomainSigningPrivateKey;
  let run: RunHandle;
  try {
    run = await startRun(
      {
        identity: request.EmailIdentity,
        identityType: 'DOMAIN',
        operation: 'ChangeDkimSigning',
        fingerprint: runFingerprint(request, 'SigningAttributes'),
        idempotencyKey: options.idempotencyKey,
        keyHandOff: keyHandOffFor(request.EmailIdentity, key, config.keySecretPrefix),
        inputFor: (secretArn) => executionInputFor(request, secretArn),
        beforeStart: () => assertChangeAllowed(request),
      },
      config,
    );
  } catch (error) {
    if (error instanceof NothingToChange) return { unchanged: { identity: request.EmailIdentity } };
    throw error;
  }
  return {
    started: {
      id: run.id,
      created_at: run.created_at,
      identity: request.EmailIdentity,
      identity_type: 'DOMAIN',
      status: run.status,
      execution_arn: run.execution_arn,
      operation: 'ChangeDkimSigning',
      signing_attributes_origin: request.SigningAttributesOrigin,
      repeated: run.repeated,
    },
  };
}

/**
 * True when the change would leave the identity signing exactly as it does: Easy DKIM asked of
 * an identity on Easy DKIM, with no key length or the one SES generates next already. A BYODKIM
 * request always brings a key (SES's API requires one), and SES never reveals the key it holds,
 * so it is always treated as a change.
 */
export function changesNothing(request: DkimChangeRequest, current: SigningSnapshot): boolean {
  return (
    request.SigningAttributesOrigin === 'AWS_SES' &&
    current.signing.origin === 'AWS_SES' &&
    !isKeyLengthChange(request, current)
  );
}

/**
 * The workflow's DKIM change request for a path identity and a body, validated with the shared
 * schema. Every problem is reported at once: the identity's under `identity` (the path
 * parameter), the body's under their field paths.
 */
export function dkimChangeRequestOf(
  pathIdentity: string,
  body: unknown,
  idempotencyKey?: string,
): DkimChangeRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([{ field: 'body', message: 'must be a JSON object' }]);
  }
  const issues: FieldIssue[] = [];
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (Object.hasOwn(ROUTE_FIELDS, field)) {
      issues.push({ field, message: ROUTE_FIELDS[field as keyof typeof ROUTE_FIELDS] });
    } else {
      fields[field] = value;
    }
  }
  const keyIssue = idempotencyKeyIssue(idempotencyKey);
  if (keyIssue !== null) issues.push(keyIssue);
  const checked = checkDkimChangeRequest(
    { ...fields, Operation: 'ChangeDkimSigning', EmailIdentity: pathIdentity },
    { keyDelivery: 'inline' },
  );
  if (!checked.ok) {
    for (const issue of checked.issues) {
      issues.push(issue.field === 'EmailIdentity' ? { ...issue, field: 'identity' } : issue);
    }
  }
  if (issues.length > 0 || !checked.ok) throw new ValidationError(capFieldIssues(issues));
  return checked.request;
}

/** The state machine input: the change, with the key (if any) swapped for its secret's ARN. */
export function executionInputFor(
  request: DkimChangeRequest,
  secretArn: string | undefined,
): DkimChangeRequest {
  return withKeyInSecret(request, 'SigningAttributes', secretArn);
}

/**
 * One GetEmailIdentity before a new run, for answers the caller gets now rather than in a
 * failure event: 404 when SES does not know the identity, nothing to do when SES already signs
 * as asked (NothingToChange), 409 when an Easy DKIM key length change comes within a day of the
 * last key (SES's rule; the workflow enforces it as well).
 */
async function assertChangeAllowed(request: DkimChangeRequest): Promise<void> {
  const identity = request.EmailIdentity;
  const existing = await getEmailIdentity(identity);
  if (existing === null) {
    throw new HttpError(
      'NOT_FOUND',
      `${identity} is not an SES identity in this account and Region: create it first (POST /identities)`,
    );
  }
  const current = signingSnapshotOf(existing);
  if (changesNothing(request, current)) {
    throw new NothingToChange(`${identity} already signs as the request asks`);
  }
  const refusal = keyLengthChangeRefusal(request, current, clock.now());
  if (refusal !== undefined) throw new ConflictError(refusal);
}
