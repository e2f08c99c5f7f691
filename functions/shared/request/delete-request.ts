import { type FieldIssue, ValidationError } from '#shared/workflow/errors.js';
import { normaliseEmailIdentity } from './identity-name.js';

/**
 * Offboarding an identity (DELETE /identities/{identity}), as the state machine receives it:
 * never a body of the caller's, but what the API decided. `StoppedRun` is the run the request
 * stopped, `KeySecretArn` the key secret that run had not deleted yet (an ARN, never a key).
 */
export interface DeleteIdentityRequest {
  Operation: 'DeleteIdentity';
  EmailIdentity: string;
  /** True when SES had the identity but the stack never managed it (`?unmanaged=true`). */
  Unmanaged: boolean;
  StoppedRun: string | null;
  KeySecretArn: string | null;
}

const FIELDS = ['Operation', 'EmailIdentity', 'Unmanaged', 'StoppedRun', 'KeySecretArn'];

/** True when a workflow input asks to delete an identity (ChooseOperation's DeleteIdentity). */
export function isDeleteRequest(input: unknown): boolean {
  return (input as { Operation?: unknown } | null)?.Operation === 'DeleteIdentity';
}

/** Validates a delete request; throws ValidationError naming every problem. */
export function parseDeleteRequest(input: unknown): DeleteIdentityRequest {
  const fields = (input ?? {}) as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  for (const field of Object.keys(fields)) {
    if (!FIELDS.includes(field)) issues.push({ field, message: 'is not a known field' });
  }
  let identity = '';
  if (typeof fields.EmailIdentity !== 'string') {
    issues.push({ field: 'EmailIdentity', message: 'is required' });
  } else {
    const { value, problems } = normaliseEmailIdentity(fields.EmailIdentity);
    for (const message of problems) issues.push({ field: 'EmailIdentity', message });
    identity = value;
  }
  if (typeof fields.Unmanaged !== 'boolean') {
    issues.push({ field: 'Unmanaged', message: 'must be true or false' });
  }
  for (const field of ['StoppedRun', 'KeySecretArn'] as const) {
    if (fields[field] !== null && typeof fields[field] !== 'string') {
      issues.push({ field, message: 'must be a string or null' });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    Operation: 'DeleteIdentity',
    EmailIdentity: identity,
    Unmanaged: fields.Unmanaged as boolean,
    StoppedRun: fields.StoppedRun as string | null,
    KeySecretArn: fields.KeySecretArn as string | null,
  };
}

/** What makes two delete requests the same request (the registry's `request_hash`). */
export function deleteFingerprint(identity: string): string {
  return `DeleteIdentity:${identity}`;
}
