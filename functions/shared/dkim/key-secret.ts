import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorName, toStepError } from '#shared/aws/classify-error.js';
import { secretsManagerClient } from '#shared/aws/clients/secrets-manager.js';
import { logger } from '#shared/runtime/observability.js';
import { ValidationError } from '#shared/workflow/errors.js';
import { inspectPrivateKey } from './keys.js';

/**
 * The key secret's lifecycle. A supplied BYODKIM private key never travels in an execution's
 * input: the API stores it in a Secrets Manager secret of its own ({@link storeKeySecret}) and
 * passes the ARN; CreateIdentity or ChangeDkimSigning reads it once ({@link readKeySecret}) and
 * hands the key to SES; DiscardKeySecret deletes it ({@link deleteKeySecret}) once SES holds the
 * key, and again on the failure path, so that the key lives in SES only.
 *
 * Each function is granted only the operations its code path uses: the template check derives
 * them from the handler's tree-shaken bundle (scripts/validate-sdk-usage.ts).
 */

/** Tag put on every key secret, so that operators can find (and audit) them by identity. */
export const SECRET_IDENTITY_TAG = 'ses-identity-verifier:identity';

const CREATE_SECRET_FIELD = 'DkimSigningAttributes.DomainSigningPrivateKeySecretArn';

/** A supplied BYODKIM key, read from its secret. `privateKey` goes to SES and nowhere else. */
export interface SuppliedKey {
  privateKey: string;
  publicKey: string;
  bits: number;
}

/** The ARN of the secret that brought a BYODKIM key, in a creation or a change request; else null. */
export function keySecretArnOf(request: unknown): string | null {
  const fields = request as {
    DkimSigningAttributes?: { DomainSigningPrivateKeySecretArn?: unknown };
    SigningAttributes?: { DomainSigningPrivateKeySecretArn?: unknown };
  } | null;
  const arn =
    fields?.DkimSigningAttributes?.DomainSigningPrivateKeySecretArn ??
    fields?.SigningAttributes?.DomainSigningPrivateKeySecretArn;
  return typeof arn === 'string' && arn !== '' ? arn : null;
}

/**
 * The hand-off of an inline key for starting a run (runs/start-run's KeyHandOff): stored under
 * `keySecretPrefix` when the run is sure to start, deleted again when it does not. Undefined
 * when the request carries no key.
 */
export function keyHandOffFor(
  identity: string,
  privateKey: string | undefined,
  keySecretPrefix: string,
): { store(): Promise<string>; discard(secretArn: string): Promise<void> } | undefined {
  if (privateKey === undefined) return undefined;
  return {
    store: () => storeKeySecret(identity, privateKey, keySecretPrefix),
    discard: deleteKeySecretQuietly,
  };
}

/**
 * Puts a supplied BYODKIM private key into its own secret and returns the secret's ARN. The name
 * is unique per attempt (a concurrent identical request must not collide with this one's secret),
 * which is why a repeat whose execution already exists deletes the secret it made.
 */
export async function storeKeySecret(
  identity: string,
  privateKey: string,
  keySecretPrefix: string,
): Promise<string> {
  const attempt = randomBytes(6).toString('hex');
  const output = await secretsManagerClient.send(
    new CreateSecretCommand({
      Name: `${keySecretPrefix}${secretSafe(identity)}-${attempt}`,
      Description: `BYODKIM private key for ${identity}, read once by the verification workflow`,
      SecretString: privateKey,
      Tags: [{ Key: SECRET_IDENTITY_TAG, Value: secretSafe(identity) }],
    }),
  );
  if (output.ARN === undefined) throw new Error('CreateSecret returned no ARN');
  return output.ARN;
}

/** Secrets Manager's ways of saying the secret is not there (any more). */
function isSecretGone(error: unknown): boolean {
  const name = awsErrorName(error);
  return (
    name === 'ResourceNotFoundException' ||
    (name === 'InvalidRequestException' &&
      /delet/i.test(error instanceof Error ? error.message : ''))
  );
}

/**
 * Reads the base64 DER private key a secret holds and checks it as SES will. A secret that does
 * not exist, is scheduled for deletion, may not be read, or holds no usable key is a
 * ValidationError of `field`, the request field that named it.
 */
export async function readKeySecret(
  secretArn: string,
  field = CREATE_SECRET_FIELD,
): Promise<SuppliedKey> {
  let secretString: string | undefined;
  try {
    const secret = await secretsManagerClient.send(
      new GetSecretValueCommand({ SecretId: secretArn }),
    );
    secretString = secret.SecretString;
  } catch (error) {
    if (isSecretGone(error)) {
      throw new ValidationError([
        {
          field,
          message: `names a secret that does not exist or is scheduled for deletion (${secretArn})`,
        },
      ]);
    }
    // The workflow may read only the secrets under its stack's key prefix (where the API puts
    // them): say so, rather than pass on an access-denied message naming our role.
    if (awsErrorName(error) === 'AccessDeniedException') {
      throw new ValidationError([
        {
          field,
          message:
            'names a secret the workflow may not read: store the key in a secret named under the stack\'s "dkim-private-keys/" prefix',
        },
      ]);
    }
    throw toStepError(error, `GetSecretValue ${secretArn}`);
  }
  if (secretString === undefined) {
    throw new ValidationError([
      {
        field,
        message: 'names a secret with no SecretString; store the base64 DER private key as text',
      },
    ]);
  }
  // Tolerate the newline an editor or `echo` leaves; SES itself accepts no white space.
  const privateKey = secretString.trim();
  const inspection = inspectPrivateKey(privateKey);
  if (!inspection.ok) {
    throw new ValidationError([
      { field, message: `names a secret whose value ${inspection.reason}` },
    ]);
  }
  return { privateKey, publicKey: inspection.publicKey, bits: inspection.bits };
}

/**
 * Deletes a key secret at once, without a recovery window, so that the key lives in SES only.
 * A secret already gone is fine: an earlier attempt deleted it.
 */
export async function deleteKeySecret(secretArn: string): Promise<void> {
  try {
    await secretsManagerClient.send(
      new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }),
    );
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return;
    throw toStepError(error, `DeleteSecret ${secretArn}`);
  }
}

/** Deletes a key secret no run will read; a failure is logged, never thrown. */
export async function deleteKeySecretQuietly(secretArn: string): Promise<void> {
  try {
    await deleteKeySecret(secretArn);
  } catch (error) {
    // The caller's own error matters more; the secret is tagged and prefixed for clean-up.
    logger.warn('Could not delete an unused key secret', {
      secretArn,
      errorName: error instanceof Error ? error.name : typeof error,
    });
  }
}

/** Secrets Manager names and tag values allow letters, digits and `/_+=.@-`. */
function secretSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9/_+=.@-]/g, '_');
}

/**
 * Keeps a key pair generated for a DKIM change in a secret of its own until SES is switched to
 * it: the new selector's TXT record is published and seen in DNS first, and meanwhile the
 * private half must not travel in the execution's state. The secret is named after the run, so a
 * retried step finds the key it generated before instead of making a second one. Returns the
 * key as stored (ARN, public half), never the private half.
 */
export async function storeGeneratedKeySecret(
  identity: string,
  executionId: string,
  privateKey: string,
  keySecretPrefix: string,
): Promise<{ secretArn: string; publicKey: string; bits: number }> {
  const name = `${keySecretPrefix}${secretSafe(identity)}-change-${secretSafe(executionId)}`.slice(
    0,
    512,
  );
  let secretArn: string;
  try {
    const output = await secretsManagerClient.send(
      new CreateSecretCommand({
        Name: name,
        Description: `BYODKIM private key generated for a DKIM change of ${identity}, until SES holds it`,
        SecretString: privateKey,
        Tags: [{ Key: SECRET_IDENTITY_TAG, Value: secretSafe(identity) }],
      }),
    );
    if (output.ARN === undefined) throw new Error('CreateSecret returned no ARN');
    secretArn = output.ARN;
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceExistsException') {
      throw toStepError(error, `CreateSecret ${name}`);
    }
    // A retry of this step: the key generated the first time is the one to publish.
    secretArn = name;
  }
  const stored = await readKeySecret(secretArn, 'SigningAttributes.GenerateDomainSigningKey');
  return { secretArn, publicKey: stored.publicKey, bits: stored.bits };
}
