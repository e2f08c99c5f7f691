import type { Readiness } from '#shared/readiness/readiness.js';
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
  /** Each requested part of "ready to send" at the run's last look; null before one. */
  readiness: Readiness | null;
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
    readiness: fields.readiness ?? null,
  };
}
