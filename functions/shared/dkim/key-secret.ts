import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsErrorName, toStepError } from '#shared/aws/classify-error.js';
import { secretsManagerClient } from '#shared/aws/clients/secrets-manager.js';
import { ValidationError } from '#shared/workflow/errors.js';
import { inspectPrivateKey } from './keys.js';

const CREATE_SECRET_FIELD = 'DkimSigningAttributes.DomainSigningPrivateKeySecretArn';

/** A supplied BYODKIM key, read from its secret. `privateKey` goes to SES and nowhere else. */
export interface SuppliedKey {
  privateKey: string;
  publicKey: string;
  bits: number;
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
 * Reads the base64 DER private key a secret holds and checks it as SES will. Returns `undefined`
 * when the secret does not exist or is scheduled for deletion (the caller says so to the user).
 * `field` names the request field that gave the secret, for validation errors.
 */
export async function readSuppliedKey(
  secretArn: string,
  field = CREATE_SECRET_FIELD,
): Promise<SuppliedKey | undefined> {
  let secretString: string | undefined;
  try {
    const secret = await secretsManagerClient.send(
      new GetSecretValueCommand({ SecretId: secretArn }),
    );
    secretString = secret.SecretString;
  } catch (error) {
    if (isSecretGone(error)) return undefined;
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
