import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { withReplicas } from '#shared/readiness/readiness.js';
import { normaliseEmailIdentity } from '#shared/request/identity-name.js';
import type { ReplicaRegionReadiness, ReplicasReadiness } from '#shared/ses/replicas.js';
import {
  type FieldIssue,
  isRetryableError,
  reasonCodeFor,
  validationDetailsIn,
} from '#shared/workflow/errors.js';
import {
  type FailureDetail,
  failureDetail,
  sendingAfterFailure,
} from '#shared/workflow/failure.js';
import type { CreatedIdentity, PublishedRecords } from '#shared/workflow/types.js';
import type { CheckResult } from '#steps/check-verification/check-identity.js';

/** The state as a Catch leaves it: whatever the steps had added before one failed. */
export interface CaughtState {
  request?: unknown;
  execution_id?: string | null;
  identity?: CreatedIdentity;
  dns?: PublishedRecords;
  check?: CheckResult;
  /** A DKIM change: how the domain signed before it, and the change as prepared. */
  signing_before?: SigningSnapshot | null;
  prepared?: { identity?: CreatedIdentity | null } | null;
  /** A DKIM change: whether SES had been switched to the new signing. */
  switched?: boolean;
  error?: { Error?: string; Cause?: string };
  claim?: { replicas?: ReplicasReadiness };
}

/** A Region's outcome as the Map left it: `retryable` when its retries were spent. */
type ReplicaOutcome = ReplicaRegionReadiness & { retryable?: boolean };

// A run can fail before the request was ever valid: every field may be missing or wrong.
const MESSAGES_FOR_STATES_ERRORS: Record<string, string> = {
  'States.Timeout': 'A step took longer than its timeout.',
  'States.TaskFailed': 'A step failed.',
  'States.Permissions': 'The workflow lacks a permission it needs.',
  'Lambda.Unknown': 'A step crashed (out of memory or timed out) before it could report an error.',
  'EventBridge.FailedEntry': 'EventBridge refused the notification event.',
};

/**
 * Turns an error caught by the state machine into the failure event's detail: the reason code
 * from the error's name, a message from Lambda's `{errorType, errorMessage}` Cause (never its
 * stack trace), and, for an invalid request, every problem with its field path, as the
 * ValidationError that the failed step raised carried them.
 */
export function describeFailure(state: CaughtState): FailureDetail {
  const errorName = state.error?.Error ?? 'Unknown';
  const code = reasonCodeFor(errorName);
  const replicas = state.claim?.replicas;
  const failedReplicas = ((replicas?.regions ?? []) as ReplicaOutcome[]).filter(
    (region) => region.status === 'FAILED',
  );
  const replicaFailure = errorName === 'ReplicaFailedError' && failedReplicas.length > 0;
  const message = replicaFailure
    ? replicaFailureMessage(state, failedReplicas)
    : messageOf(errorName, state.error?.Cause);
  const { summary, details } =
    code === 'VALIDATION_ERROR' ? validationDetailsIn(message) : { summary: message, details: [] };
  const requested = requestedIdentity(state.request);
  return failureDetail({
    identity: state.identity?.identity ?? requested,
    identity_type: state.identity?.identity_type ?? null,
    execution_id: state.execution_id ?? null,
    reason: {
      code,
      message: redact(summary),
      retryable: replicaFailure
        ? failedReplicas.every((region) => region.retryable === true)
        : isRetryableError(errorName),
    },
    details: details.map(
      (issue): FieldIssue => ({ field: redact(issue.field), message: redact(issue.message) }),
    ),
    records: state.dns?.records ?? [],
    verification_info: state.check?.verification_info ?? null,
    diagnosis: state.check?.probe ?? [],
    change: state.identity?.change ?? null,
    ...sendingAfterFailure({
      identity: state.identity?.identity ?? requested,
      // A DKIM change read how the domain signed first: it was switched only once
      // ChangeDkimSigning answered.
      switched:
        state.signing_before === undefined || state.signing_before === null
          ? null
          : state.switched === true,
      switchedAt: state.identity?.change?.switched_at ?? null,
      verifiedBefore: state.signing_before?.verified_for_sending ?? null,
      verifiedNow: state.check?.checked_at ? state.check.verified_for_sending : null,
    }),
    // The parts at the run's last look, and the replicas beside them once the run claimed.
    readiness: withReplicas(
      state.check?.readiness,
      replicas === undefined ? undefined : readinessOf(replicas),
    ),
  });
}

/** The readiness the events report: each Region's region, status and detail, nothing internal. */
function readinessOf(replicas: ReplicasReadiness): ReplicasReadiness {
  return {
    status: replicas.status,
    regions: replicas.regions.map(({ region, status, detail }) => ({ region, status, detail })),
  };
}

function replicaFailureMessage(state: CaughtState, failed: ReplicaOutcome[]): string {
  const identity = state.identity?.identity ?? 'The identity';
  const regions = failed.map((region) => `${region.region}: ${region.detail}`).join(' ');
  return `${identity} is verified in this Region, but ${failed.length} of ${state.claim?.replicas?.regions.length ?? failed.length} DEED replica(s) could not be verified. ${regions}`;
}

function messageOf(errorName: string, cause: string | undefined): string {
  if (cause) {
    try {
      const parsed = JSON.parse(cause) as { errorMessage?: unknown };
      if (typeof parsed.errorMessage === 'string' && parsed.errorMessage !== '') {
        return parsed.errorMessage;
      }
    } catch {
      // Not Lambda's JSON: a plain Cause from Step Functions itself.
    }
    if (!cause.trimStart().startsWith('{')) return cause;
  }
  return MESSAGES_FOR_STATES_ERRORS[errorName] ?? `The workflow failed with ${errorName}.`;
}

/** The requested identity, only when it is one: an invalid value is never echoed in an event. */
function requestedIdentity(request: unknown): string | null {
  const value = (request as { EmailIdentity?: unknown } | null | undefined)?.EmailIdentity;
  if (typeof value !== 'string') return null;
  const { value: identity, problems } = normaliseEmailIdentity(value);
  return problems.length === 0 ? identity : null;
}

// Belt and braces: a message must never carry key material, even if a library put it there.
function redact(message: string): string {
  return message
    .replace(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g, '[redacted key]')
    .replace(/[A-Za-z0-9+/=]{200,}/g, '[redacted]')
    .slice(0, 2000);
}
