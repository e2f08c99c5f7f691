import type { RunReadiness } from '#shared/readiness/readiness.js';
import type { FieldIssue, ReasonCode } from './errors.js';
import type { DkimChange, DkimDnsRecord, IdentityType, ProbeResult } from './types.js';

/** SES's VerificationInfo, in our vocabulary. */
export interface VerificationInfo {
  error_type: string | null;
  last_checked_at: string | null;
  last_success_at: string | null;
}

/** Why a run failed, and whether the same request may succeed later (DESIGN.md, Wave 2). */
export interface FailureReason {
  code: ReasonCode;
  message: string;
  /**
   * True when the same request may succeed later: SES throttling or a 5xx that outlasted the
   * retries, a time-out or a DKIM failure once the records are fixed; false for a bad request,
   * a conflict or a quota.
   */
  retryable: boolean;
}

/** The detail of "Email Identity Verification Failed" (docs/events/email-identity-verification-failed.schema.json). */
export interface FailureDetail {
  identity: string | null;
  identity_type: IdentityType | null;
  execution_id: string | null;
  reason: FailureReason;
  /** VALIDATION_ERROR: every problem with the request. */
  details: FieldIssue[];
  /** SES's VerificationInfo when SES was asked. */
  verification_info: VerificationInfo | null;
  records: DkimDnsRecord[];
  /** Our own DNS look-up of each record, when one was made. */
  diagnosis: ProbeResult[];
  /** The DKIM change the run was making, when it was one. */
  change: DkimChange | null;
  /** Whether the domain can still send mail through SES after this failure, as far as SES says. */
  can_still_send: boolean;
  /** The same in words: what signs the domain's mail now, and what to do. */
  sending: string;
  /**
   * Each requested part of "ready to send" at the run's last look, with `replicas` (DEED) once
   * the run claimed its identity; null before either.
   */
  readiness: RunReadiness | null;
}

/** Builds a failure detail, filling what is not known with empty values (the schema needs every field). */
export function failureDetail(
  fields: Pick<FailureDetail, 'reason'> & Partial<FailureDetail>,
): FailureDetail {
  return {
    identity: fields.identity ?? null,
    identity_type: fields.identity_type ?? null,
    execution_id: fields.execution_id ?? null,
    reason: fields.reason,
    details: fields.details ?? [],
    verification_info: fields.verification_info ?? null,
    records: fields.records ?? [],
    diagnosis: fields.diagnosis ?? [],
    change: fields.change ?? null,
    can_still_send: fields.can_still_send ?? false,
    sending: fields.sending ?? 'Whether the identity can send could not be determined.',
    readiness: fields.readiness ?? null,
  };
}

/** What is known after a failure about whether the identity can send. */
export interface SendingFacts {
  identity: string | null;
  /** A DKIM change: whether SES had been switched to the new signing; null for a creation. */
  switched: boolean | null;
  /** When SES was switched, if it was. */
  switchedAt?: string | null;
  /** SES's VerifiedForSendingStatus before the change (ReadDkimSigning), when it was read. */
  verifiedBefore: boolean | null;
  /** SES's VerifiedForSendingStatus at the run's last look, when SES was asked. */
  verifiedNow: boolean | null;
}

/**
 * Says plainly whether the domain can still send after a failed run. A DKIM change that failed
 * before SES was switched (its new records never showed in DNS, or it was refused) left SES
 * signing as before, with the old records in place. A change that failed after the switch
 * leaves what SES says now: SES does not document a way back to a BYODKIM key it no longer
 * holds, and never reveals one, so a person decides (another change, with a key or to Easy DKIM).
 */
export function sendingAfterFailure(
  facts: SendingFacts,
): Pick<FailureDetail, 'can_still_send' | 'sending'> {
  const who = facts.identity ?? 'The identity';
  if (facts.switched === false) {
    const can = facts.verifiedBefore === true;
    return {
      can_still_send: can,
      sending: can
        ? `${who} can still send: SES was not switched, so it signs as before the change, and the old DKIM records stay in DNS.`
        : `SES was not switched, so nothing changed for ${who}; it was not verified for sending before the change either.`,
    };
  }
  const can = facts.verifiedNow === true;
  if (facts.switched === true) {
    return {
      can_still_send: can,
      sending: can
        ? `${who} can still send: SES reports it verified for sending.`
        : `${who} cannot send now: SES was switched to the new DKIM signing${facts.switchedAt ? ` at ${facts.switchedAt}` : ''} and does not verify it. Fix the new records and send the change again, or change DKIM signing back (PUT /identities/{identity}/dkim); the old records stay in DNS.`,
    };
  }
  if (facts.verifiedNow === null) {
    return {
      can_still_send: false,
      sending: `The run failed before it looked at SES, so whether ${who} can send is not known here: GET /identities/{identity} shows SES's view.`,
    };
  }
  return {
    can_still_send: can,
    sending: can
      ? `${who} can send: SES reports it verified for sending.`
      : `${who} cannot send yet: SES has not verified it for sending.`,
  };
}
