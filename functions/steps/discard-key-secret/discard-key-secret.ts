import { deleteKeySecret, keySecretArnOf } from '#shared/dkim/key-secret.js';

/**
 * Deletes the secret that brought a request's BYODKIM key, if any. The workflow runs it once the
 * identity's output is in its state (a retried CreateIdentity could still need the key until
 * then), and again on the failure path, so no run leaves a key behind.
 */
export async function discardKeySecret(
  request: unknown,
  keySecretArn: string | null = null,
): Promise<{ deleted: string | null }> {
  // A DKIM change names its key's secret apart from the request: a generated key's is the run's.
  const arns = [...new Set([keySecretArnOf(request), keySecretArn])].filter(
    (arn): arn is string => typeof arn === 'string' && arn !== '',
  );
  for (const arn of arns) await deleteKeySecret(arn);
  return { deleted: arns[0] ?? null };
}
