import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManagerClient } from '#shared/aws/clients/secrets-manager.js';
import { sha256Hex } from '#shared/runs/execution-names.js';
import { logger } from '#shared/runtime/observability.js';

/** Tag put on every key secret, so that operators can find (and audit) them by identity. */
export const SECRET_IDENTITY_TAG = 'ses-identity-verifier:identity';

/**
 * Puts a supplied BYODKIM private key into its own secret and returns the secret's ARN. The name
 * is unique per attempt (a concurrent identical request must not collide with this one's secret),
 * which is why a repeat whose execution already exists deletes the secret it made.
 */
export async function storePrivateKey(
  identity: string,
  privateKey: string,
  keySecretPrefix: string,
): Promise<string> {
  const attempt = sha256Hex(`${identity}:${randomUUID()}`).slice(0, 12);
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

/** Deletes a key secret no run will read; a failure is logged, never thrown. */
export async function deleteSecretQuietly(secretArn: string): Promise<void> {
  try {
    await secretsManagerClient.send(
      new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }),
    );
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
