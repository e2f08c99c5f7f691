import type { DkimChangeRequest } from '#shared/request/index.js';
import type { SesIdentity } from '#shared/ses/identity-view.js';
import type { DkimKeyLength, DkimSigning, DkimStatus } from '#shared/workflow/types.js';

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
  /** SES's VerifiedForSendingStatus before the change: whether the domain could send then. */
  verified_for_sending: boolean;
}

/**
 * The snapshot of an identity as SES reports it. The signing's origin is null when the domain
 * has no DKIM to change from (no tokens and no selector).
 */
export function signingSnapshotOf(identity: SesIdentity): SigningSnapshot {
  const dkim = identity.dkim;
  const signs = dkim !== null && (dkim.tokens.length > 0 || dkim.selector !== null);
  return {
    identity_type: identity.identity_type,
    signing: signs
      ? {
          origin: dkim.origin,
          selector: dkim.selector,
          tokens: [...dkim.tokens],
          signing_key_length: dkim.current_signing_key_length,
        }
      : { origin: null, selector: null, tokens: [], signing_key_length: null },
    dkim_status: dkim?.status ?? null,
    next_signing_key_length: dkim?.next_signing_key_length ?? null,
    last_key_generation_timestamp: dkim?.last_key_generated_at ?? null,
    configuration_set_name: identity.configuration_set_name,
    verified_for_sending: identity.verified_for_sending === true,
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
 * Why this key length change must wait, or undefined. SES's NextSigningKeyLength is "the key
 * length of the future DKIM key pair to be generated" and "can be changed at most once per day"
 * (PutEmailIdentityDkimSigningAttributes, DkimSigningAttributes): while it differs from
 * CurrentSigningKeyLength, a change is still pending (SES has not rotated to the new key yet),
 * and a second one would silently replace it, so it is refused, naming the pending one. Otherwise
 * SES allows one change a day. The API answers 409 with it at once; the PrepareDkimChange step
 * refuses with it too.
 */
export function keyLengthChangeRefusal(
  request: DkimChangeRequest,
  current: SigningSnapshot,
  now: Date,
): string | undefined {
  if (!isKeyLengthChange(request, current)) return undefined;
  const signingWith = current.signing.signing_key_length;
  const pending = current.next_signing_key_length;
  if (signingWith !== null && pending !== null && pending !== signingWith) {
    return `An Easy DKIM key length change is still pending: SES signs with ${signingWith} and has not yet rotated to the ${pending} key asked for before; ask for ${request.SigningAttributes?.NextSigningKeyLength} once GET /identities/{identity} shows the current key length at ${pending}`;
  }
  if (current.last_key_generation_timestamp === null) return undefined;
  const last = new Date(current.last_key_generation_timestamp);
  const allowedAt = new Date(last.getTime() + KEY_LENGTH_CHANGE_INTERVAL_MS);
  if (now >= allowedAt) return undefined;
  return `SES changes an Easy DKIM key length at most once a day: the last key was generated at ${last.toISOString()}, so the next change is allowed from ${allowedAt.toISOString()}`;
}
