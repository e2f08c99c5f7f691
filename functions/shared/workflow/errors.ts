/**
 * Error classes shared by every step. Their `name`s are the contract with the state machine:
 * statemachine/verify-email-identity.asl.json matches them in `Retry` and `Catch`, and
 * `reasonCodeFor` maps them to the reason codes of the "Email Identity Verification Failed" event.
 * Keep the three in step: `npm run validate` (scripts/asl-checks.ts) checks the ASL against this module.
 */

/** Reason codes carried by "Email Identity Verification Failed" (DESIGN.md, "Events we emit"). */
export const REASON_CODES = [
  'VALIDATION_ERROR',
  'CONFLICT',
  'DNS_PUBLISH_FAILED',
  'DKIM_FAILED',
  'MAIL_FROM_FAILED',
  'TIMED_OUT',
  'SES_ERROR',
  'INTERNAL_ERROR',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** One problem with one field of a request, as the API and the events report it. */
export interface FieldIssue {
  field: string;
  message: string;
}

abstract class VerifierError extends Error {}

/**
 * How a ValidationError's message carries its details: Lambda reports a thrown error to Step
 * Functions as `{errorType, errorMessage, trace}` only (the Node.js runtime's error response),
 * so the details travel in the message, after the summary, as JSON. DescribeFailure reads them
 * back with {@link validationDetailsIn}.
 */
const DETAILS_MARKER = '\nDetails: ';

/** The request breaks one or more rules; `details` lists every problem with its field path. */
export class ValidationError extends VerifierError {
  override name = 'ValidationError';
  constructor(
    readonly details: FieldIssue[],
    summary = `Invalid request: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
  ) {
    super(`${summary}${DETAILS_MARKER}${JSON.stringify(details)}`);
  }
}

/**
 * A ValidationError's summary and details, from its message as Lambda reported it (the Cause's
 * errorMessage). A message without details (another error's) is all summary.
 */
export function validationDetailsIn(message: string): { summary: string; details: FieldIssue[] } {
  const at = message.lastIndexOf(DETAILS_MARKER);
  if (at === -1) return { summary: message, details: [] };
  try {
    const parsed: unknown = JSON.parse(message.slice(at + DETAILS_MARKER.length));
    if (Array.isArray(parsed) && parsed.every(isFieldIssue)) {
      return { summary: message.slice(0, at), details: parsed };
    }
  } catch {
    // Not our JSON: the message is all summary.
  }
  return { summary: message, details: [] };
}

function isFieldIssue(value: unknown): value is FieldIssue {
  const issue = value as Partial<FieldIssue> | null;
  return typeof issue?.field === 'string' && typeof issue.message === 'string';
}

/** The identity already exists in SES in a way that does not match the request. */
export class ConflictError extends VerifierError {
  override name = 'ConflictError';
}

/** SES (or another AWS service) asked us to slow down. Retried by the state machine. */
export class ThrottlingError extends VerifierError {
  override name = 'ThrottlingError';
}

/** Someone else changed the same resource at the same time. Retried. */
export class ConcurrentModificationError extends VerifierError {
  override name = 'ConcurrentModificationError';
}

/** A 5xx from an AWS service, or a network failure talking to it. Retried. */
export class ServiceUnavailableError extends VerifierError {
  override name = 'ServiceUnavailableError';
}

/** SES rejected the request as malformed (BadRequestException). Not retried. */
export class SesBadRequestError extends VerifierError {
  override name = 'SesBadRequestError';
}

/** An account quota was reached (LimitExceededException). Not retried. */
export class SesLimitExceededError extends VerifierError {
  override name = 'SesLimitExceededError';
}

/** Something the request names does not exist in SES (a configuration set, the identity). */
export class SesNotFoundError extends VerifierError {
  override name = 'SesNotFoundError';
}

/** The DKIM records could not be written (no such zone, access denied, change rejected). */
export class DnsPublishError extends VerifierError {
  override name = 'DnsPublishError';
}

/** Route 53 did not report INSYNC within the bound. Retried: the change usually lands. */
export class DnsChangePendingError extends VerifierError {
  override name = 'DnsChangePendingError';
}

/** A required setting is missing or malformed: a deployment mistake, not a request mistake. */
export class ConfigurationError extends VerifierError {
  override name = 'ConfigurationError';
}

/**
 * The parent identity verified, but a DEED replica could not be made or verified in some Region:
 * the failure event's message names each such Region and why (from `readiness.replicas`).
 */
export class ReplicaFailedError extends VerifierError {
  override name = 'ReplicaFailedError';
}

/**
 * A DEED replica request (`DomainSigningAttributesOrigin`) whose parent identity in the named
 * Region is missing, or not a verified Easy DKIM identity yet: not retried by the state machine
 * (the parent's verification takes minutes to days), but the same request succeeds once it is.
 */
export class ReplicaParentNotReadyError extends VerifierError {
  override name = 'ReplicaParentNotReadyError';
}

/** Every error class the steps throw, by name. */
export const ERROR_CLASSES = {
  ValidationError,
  ConflictError,
  ThrottlingError,
  ConcurrentModificationError,
  ServiceUnavailableError,
  SesBadRequestError,
  SesLimitExceededError,
  SesNotFoundError,
  DnsPublishError,
  DnsChangePendingError,
  ConfigurationError,
  ReplicaFailedError,
  ReplicaParentNotReadyError,
} as const;
export type ErrorName = keyof typeof ERROR_CLASSES;

/**
 * How the state machine treats each error: whether it retries the step, and which reason code
 * the failure event carries once it gives up. Names not listed here are INTERNAL_ERROR.
 */
export const ERROR_POLICY: Record<ErrorName, { retryable: boolean; reasonCode: ReasonCode }> = {
  ValidationError: { retryable: false, reasonCode: 'VALIDATION_ERROR' },
  ConflictError: { retryable: false, reasonCode: 'CONFLICT' },
  ThrottlingError: { retryable: true, reasonCode: 'SES_ERROR' },
  ConcurrentModificationError: { retryable: true, reasonCode: 'SES_ERROR' },
  ServiceUnavailableError: { retryable: true, reasonCode: 'SES_ERROR' },
  SesBadRequestError: { retryable: false, reasonCode: 'SES_ERROR' },
  SesLimitExceededError: { retryable: false, reasonCode: 'SES_ERROR' },
  SesNotFoundError: { retryable: false, reasonCode: 'SES_ERROR' },
  DnsPublishError: { retryable: false, reasonCode: 'DNS_PUBLISH_FAILED' },
  DnsChangePendingError: { retryable: true, reasonCode: 'DNS_PUBLISH_FAILED' },
  ConfigurationError: { retryable: false, reasonCode: 'INTERNAL_ERROR' },
  // Retryable or not by the Regions that failed: DescribeFailure decides from their outcomes.
  ReplicaFailedError: { retryable: false, reasonCode: 'SES_ERROR' },
  ReplicaParentNotReadyError: { retryable: true, reasonCode: 'SES_ERROR' },
};

/** Names of the errors the state machine retries. */
export const RETRYABLE_ERROR_NAMES = (Object.keys(ERROR_POLICY) as ErrorName[]).filter(
  (name) => ERROR_POLICY[name].retryable && name !== 'ReplicaParentNotReadyError',
);

/**
 * Whether the same request may succeed later after this error: what the state machine retries
 * (throttling, a 5xx, a change still pending), and Step Functions' and Lambda's own transient
 * failures (a step that timed out or crashed); not a bad request, a conflict or a quota.
 */
export function isRetryableError(errorName: string): boolean {
  if (Object.hasOwn(ERROR_POLICY, errorName)) return ERROR_POLICY[errorName as ErrorName].retryable;
  return /^(States\.(Timeout|TaskFailed|HeartbeatTimeout)|Lambda\.|EventBridge\.)/.test(errorName);
}

/** The reason code for an error name caught by the state machine; unknown names are internal. */
export function reasonCodeFor(errorName: string): ReasonCode {
  return Object.hasOwn(ERROR_POLICY, errorName)
    ? ERROR_POLICY[errorName as ErrorName].reasonCode
    : 'INTERNAL_ERROR';
}
