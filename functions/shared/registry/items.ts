import type { ReasonCode } from '#shared/workflow/errors.js';
import type { DkimStatus, IdentityType } from '#shared/workflow/types.js';

/**
 * The identity registry's vocabulary: one item per identity the stack manages, the record that
 * the API, the sweeper and the workflow read and keep current (DESIGN.md, "The identity registry").
 */

/** The workflow's view of an identity: how its latest run ended, or that it is under way. */
export type IdentityStatus = 'PENDING' | 'VERIFIED' | 'FAILED' | 'TIMED_OUT' | 'DEGRADED';
export const IDENTITY_STATUSES: readonly IdentityStatus[] = [
  'PENDING',
  'VERIFIED',
  'FAILED',
  'TIMED_OUT',
  'DEGRADED',
];

/** A run's own status: PENDING while it goes, then how it ended. */
export type RunStatus = 'PENDING' | 'VERIFIED' | 'FAILED' | 'TIMED_OUT';

/** What a run does, by the state machine's branch it takes. */
export type RunOperation = 'CreateIdentity' | 'ChangeDkimSigning' | 'DeleteIdentity';

/** Why a run failed, as its failure event says it. */
export interface RunReason {
  code: ReasonCode;
  message: string;
  /** True when the same request may succeed later (throttling exhausted, a 5xx). */
  retryable: boolean;
}

/** One run of the workflow for an identity, as the registry keeps it. */
export interface RunRecord {
  /** The execution name: the same for the same request (see runs/execution-names). */
  id: string;
  execution_arn: string;
  operation: RunOperation;
  /** Hash of the normalised request, without the Idempotency-Key: "is it the same request?" */
  request_hash: string;
  started_at: string;
  status: RunStatus;
  reason: RunReason | null;
  ended_at: string | null;
  /** Who started the run: absent for a request (API, onboarding event, by hand). */
  started_by?: RunStarter;
}

/** Who started a run: a request, or the sweeper restarting a verification SES gave up on. */
export type RunStarter = 'REQUEST' | 'AUTO_RESTART';

/** The registry item of one identity. Absent optional fields are absent in DynamoDB too. */
export interface RegistryItem {
  /** The normalised identity: the partition key. */
  identity: string;
  /** The same for every item, the partition key of the ByIdentity index (list without a filter). */
  kind: 'IDENTITY';
  identity_type: IdentityType;
  status: IdentityStatus;
  dkim_status: DkimStatus | null;
  /** SES's VerificationStatus as the sweeper last read it from ListEmailIdentities. */
  ses_status?: string;
  created_at: string;
  updated_at: string;
  /** The run that holds the identity (the lock): present while a run goes. */
  active_run_id?: string;
  /** The task token of the active run while it waits for SES (DESIGN.md, "Waiting"). */
  task_token?: string;
  /** Present only with `task_token` (the sparse ByWaiting index): always TASK_TOKEN. */
  waiting_kind?: typeof WAITING_KIND;
  /**
   * When the drift watch should next look at the identity (the ByProbeDue index's sort key,
   * under its status): set when a run claims it, so that a run's end puts it in the watch, and
   * by each sweep that looks at it, to its next minute of the probe cadence (or the next sweep
   * while a miss waits to be confirmed or it is DEGRADED).
   */
  probe_due_at?: string;
  latest_run: RunRecord | null;
  /** The DNS records SES needs, JSON: kept as a string, written by the state machine as is. */
  records_json?: string;
  /** Where the stack published them (provider, zone, the records it wrote), JSON. */
  published_json?: string;
  /** Our own latest DNS look-up of each record, JSON, and when it was made. */
  probe_json?: string;
  /** `readiness.replicas` (DEED) as the latest run ended, as JSON. */
  replicas_json?: string;
  /** Each requested part of "ready to send" at the run's latest look, JSON. */
  readiness_json?: string;
  checked_at?: string;
  /**
   * The request's `AutoRestart` (absent: true): whether the sweeper may restart a verification
   * SES gave up on when our probe finds the records right.
   */
  auto_restart?: boolean;
  /**
   * The creation request a restart sends again, JSON, without a key: what the latest creation
   * asked for (tags, configuration set, DNS, DKIM). Absent after a DKIM change.
   */
  restart_request_json?: string;
  /** Consecutive drift-watch probes of a VERIFIED identity that found a record gone or wrong. */
  drift_misses?: number;
  /** When the drift watch marked the identity DEGRADED. */
  degraded_at?: string;
  /**
   * Old DKIM records a verified change left in DNS for the grace period, one batch per change;
   * the stale-record remover deletes each batch once its grace period is over.
   */
  stale_removals?: StaleRemovalBatch[];
  /** Present only while batches wait (the sparse ByStaleSince index): always STALE_RECORDS. */
  stale_kind?: typeof STALE_KIND;
  /** The oldest waiting batch's `since`: the index's sort key, so due items are one query. */
  stale_since?: string;
}

/** The one value of `waiting_kind`, the partition key of the sparse ByWaiting index. */
export const WAITING_KIND = 'TASK_TOKEN';

/** The one value of `stale_kind`, the partition key of the sparse ByStaleSince index. */
export const STALE_KIND = 'STALE_RECORDS';

/** The stale records of one verified DKIM change, as the state machine wrote them. */
export interface StaleRemovalBatch {
  /** When the change verified: its grace period counts from here. */
  since: string;
  /** The run that made the change. */
  execution_id: string;
  /** A StaleRecordRemoval (workflow/types.ts), JSON: which records the stack published, and where. */
  removal_json: string;
}

/** A page of the list, and the token of the next one (null on the last page). */
export interface RegistryPage {
  items: RegistryItem[];
  next_token: string | null;
}
