import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { awsErrorName, toStepError } from '#shared/aws/classify-error.js';
import { secretsManagerClient } from '#shared/aws/clients/secrets-manager.js';

/** The ARN of the secret that brought a BYODKIM key, in a creation or a change request. */
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
 * Deletes the secret that brought a request's BYODKIM key, at once and without a recovery window,
 * so the key lives in SES only. The workflow runs it once the identity's output is in its state
 * (a retried CreateIdentity could still need the key until then), and again on the failure path,
 * so no run leaves a key behind. A secret already gone is fine.
 */
export async function discardKeySecret(request: unknown): Promise<{ deleted: string | null }> {
  const arn = keySecretArnOf(request);
  if (arn === null) return { deleted: null };
  await deleteSuppliedKeySecret(arn);
  return { deleted: arn };
}

/**
 * Deletes the key's secret at once (no recovery window) once SES holds the key, so that the key
 * lives in one place only. A secret that is already gone is fine: an earlier attempt deleted it.
 */
async function deleteSuppliedKeySecret(secretArn: string): Promise<void> {
  try {
    await secretsManagerClient.send(
      new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }),
    );
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return;
    throw toStepError(error, `DeleteSecret ${secretArn}`);
  }
}
