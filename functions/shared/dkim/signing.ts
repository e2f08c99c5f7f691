import type { GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import type { DkimChangeRequest } from '#shared/request/index.js';
import type { DkimKeyLength, DkimSigning, DkimStatus } from '#shared/workflow/types.js';
import { originOf, selectorOf } from './ses-dkim.js';

/** SES generates an Easy DKIM key of a new length at most once a day. */
export const KEY_LENGTH_CHANGE_INTERVAL_MS = 24 * 3600_000;

/**
 * How a domain signs before a DKIM change, read once by ReadDkimSigning and kept in the
 * execution's state, so that a retried ChangeDkimSigning still knows what it is changing from
 * (SES, by then, may already report the new signing).
 */
export interface SigningSnapshot {
  identity_type: string | null;
  signing: DkimSigning;
  dkim_status: DkimStatus | null;
  next_signing_key_length: DkimKeyLength | null;
  last_key_generation_timestamp: string | null;
  configuration_set_name: string | null;
}

/** The snapshot of GetEmailIdentity's answer; origin null when the domain has no DKIM (no tokens). */
export function signingSnapshotOf(
  output: Omit<GetEmailIdentityCommandOutput, '$metadata'>,
): SigningSnapshot {
  const attributes = output.DkimAttributes;
  const origin = originOf(attributes);
  const hasDkim = origin !== undefined && (attributes?.Tokens?.length ?? 0) > 0;
  return {
    identity_type: output.IdentityType ?? null,
    signing: hasDkim
      ? {
          origin: origin ?? null,
          selector: selectorOf(attributes) ?? null,
          tokens: origin === 'AWS_SES' ? [...(attributes?.Tokens ?? [])] : [],
          signing_key_length: attributes?.CurrentSigningKeyLength ?? null,
        }
      : { origin: null, selector: null, tokens: [], signing_key_length: null },
    dkim_status: (attributes?.Status as DkimStatus | undefined) ?? null,
    next_signing_key_length: attributes?.NextSigningKeyLength ?? null,
    last_key_generation_timestamp: attributes?.LastKeyGenerationTimestamp?.toISOString() ?? null,
    configuration_set_name: output.ConfigurationSetName ?? null,
  };
}

/** True when the request changes the Easy DKIM key length of a domain already on Easy DKIM. */
export function isKeyLengthChange(request: DkimChangeRequest, current: SigningSnapshot): boolean {
  const wanted = request.SigningAttributes?.NextSigningKeyLength;
  return (
    request.SigningAttributesOrigin === 'AWS_SES' &&
    current.signing.origin === 'AWS_SES' &&
    wanted !== undefined &&
    wanted !== current.next_signing_key_length
  );
}

/**
 * Why SES would refuse this key length change now, or undefined: it allows one a day. The API
 * answers 409 with it at once; the ChangeDkimSigning step refuses with it too.
 */
export function keyLengthChangeRefusal(
  request: DkimChangeRequest,
  current: SigningSnapshot,
  now: Date,
): string | undefined {
  if (!isKeyLengthChange(request, current) || current.last_key_generation_timestamp === null) {
    return undefined;
  }
  const last = new Date(current.last_key_generation_timestamp);
  const allowedAt = new Date(last.getTime() + KEY_LENGTH_CHANGE_INTERVAL_MS);
  if (now >= allowedAt) return undefined;
  return `SES changes an Easy DKIM key length at most once a day: the last key was generated at ${last.toISOString()}, so the next change is allowed from ${allowedAt.toISOString()}`;
}
