import { deleteKeySecret, keySecretArnOf } from '#shared/dkim/key-secret.js';

/**
 * Deletes the secret that brought a request's BYODKIM key, if any. The workflow runs it once the
 * identity's output is in its state (a retried CreateIdentity could still need the key until
 * then), and again on the failure path, so no run leaves a key behind.
 */
export async function discardKeySecret(request: unknown): Promise<{ deleted: string | null }> {
  const arn = keySecretArnOf(request);
  if (arn === null) return { deleted: null };
  await deleteKeySecret(arn);
  return { deleted: arn };
}
