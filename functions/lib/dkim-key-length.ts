import type { GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import type { DkimChangeRequest } from './request/index.js';
import { originOf } from './ses-dkim.js';

/** SES generates an Easy DKIM key of a new length at most once a day. */
export const KEY_LENGTH_CHANGE_INTERVAL_MS = 24 * 3600_000;

/**
 * Why SES would refuse this key length change now, or undefined. A key length change is an
 * Easy DKIM request with a NextSigningKeyLength other than the one set, on an identity that
 * signs with Easy DKIM already (the API answers 409 with it at once; the step refuses with it too).
 */
export function keyLengthChangeRefusal(
  request: DkimChangeRequest,
  existing: GetEmailIdentityCommandOutput,
  now: Date,
): string | undefined {
  const attributes = existing.DkimAttributes;
  const wanted = request.SigningAttributes?.NextSigningKeyLength;
  const easyDkimNow = originOf(attributes) === 'AWS_SES' && (attributes?.Tokens?.length ?? 0) > 0;
  if (request.SigningAttributesOrigin !== 'AWS_SES' || !easyDkimNow) return undefined;
  if (wanted === undefined || wanted === attributes?.NextSigningKeyLength) return undefined;
  const last = attributes?.LastKeyGenerationTimestamp;
  if (last === undefined) return undefined;
  const allowedAt = new Date(last.getTime() + KEY_LENGTH_CHANGE_INTERVAL_MS);
  if (now >= allowedAt) return undefined;
  return `SES changes an Easy DKIM key length at most once a day: the last key was generated at ${last.toISOString()}, so the next change is allowed from ${allowedAt.toISOString()}`;
}
