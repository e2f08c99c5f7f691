import { createHash } from 'node:crypto';
import type { IdentityStatus } from '#shared/registry/items.js';
import type { ProbeResult } from '#shared/workflow/types.js';

/**
 * The drift watch's decisions, apart from any I/O: when an identity is probed, when what the
 * probe and SES say is drift, and when it is over. The sweeper (sweep.ts) acts on them.
 */

/** Probes in a row that must find a record gone or wrong before it counts as drift. */
export const CONFIRMING_MISSES = 2;

/** What our probe says of an identity's records as a whole. */
export type RecordsVerdict = 'RIGHT' | 'WRONG' | 'UNKNOWN';

/**
 * RIGHT when every record is as SES needs it; WRONG when one is gone or holds something else;
 * UNKNOWN when DNS could not be asked (ERROR): our own resolver's trouble is nobody's drift.
 */
export function recordsVerdict(probe: ProbeResult[]): RecordsVerdict {
  if (probe.some((r) => r.status !== 'OK' && r.status !== 'ERROR')) return 'WRONG';
  if (probe.some((r) => r.status === 'ERROR')) return 'UNKNOWN';
  return 'RIGHT';
}

/**
 * The minute of the probe cadence an identity is probed in: a hash of its name, so that a fleet
 * spreads evenly over the interval (10,000 identities every 60 minutes: about 167 a minute)
 * and each identity keeps its minute from one sweep to the next.
 */
export function probeSlot(identity: string, intervalMinutes: number): number {
  const hash = createHash('sha256').update(identity).digest();
  return hash.readUInt32BE(0) % intervalMinutes;
}

/**
 * The start of the identity's next minute of the probe cadence after `now`'s minute: when a
 * healthy identity is next due (its `probe_due_at`), so a sweep reads only the identities in
 * its own minute.
 */
export function nextProbeSlot(identity: string, now: Date, intervalMinutes: number): Date {
  const minute = Math.floor(now.getTime() / 60_000);
  const slot = probeSlot(identity, intervalMinutes);
  const ahead = (slot - (minute % intervalMinutes) + intervalMinutes) % intervalMinutes;
  return new Date((minute + (ahead === 0 ? intervalMinutes : ahead)) * 60_000);
}

/** What the sweeper knows of an identity it watches when it decides whether to probe it. */
export interface WatchedState {
  identity: string;
  status: IdentityStatus;
  /** SES's VerificationStatus in this sweep's ListEmailIdentities (NOT_FOUND when absent). */
  sesStatus: string;
  driftMisses: number;
  /** When our probe last looked (any probe: a run's, a person's check, the watch's). */
  checkedAt: string | undefined;
  /** When the watch was next due to look (`probe_due_at`), if the registry says. */
  dueAt?: string | undefined;
}

/**
 * Whether to probe now. A verified identity in its minute of the cadence, or since that minute
 * when no probe has looked since (a sweep that ran out of time or did not run), or overdue by
 * two intervals; every sweep while a miss waits to be confirmed, while SES says something other
 * than SUCCESS, and while it is DEGRADED (to see it repaired). A FAILED or TIMED_OUT identity
 * only in (or since) its minute, and only when SES has FAILED it.
 */
export function isProbeDue(state: WatchedState, now: Date, intervalMinutes: number): boolean {
  const minute = Math.floor(now.getTime() / 60_000);
  const missed =
    state.dueAt !== undefined &&
    Date.parse(state.dueAt) <= now.getTime() &&
    (state.checkedAt === undefined || Date.parse(state.checkedAt) < Date.parse(state.dueAt));
  const inSlot = minute % intervalMinutes === probeSlot(state.identity, intervalMinutes) || missed;
  const overdue =
    state.checkedAt === undefined ||
    now.getTime() - Date.parse(state.checkedAt) >= 2 * intervalMinutes * 60_000;
  switch (state.status) {
    case 'VERIFIED':
      return state.driftMisses > 0 || state.sesStatus !== 'SUCCESS' || inSlot || overdue;
    case 'DEGRADED':
      return true;
    case 'FAILED':
    case 'TIMED_OUT':
      return state.sesStatus === 'FAILED' && (inSlot || overdue);
    default:
      return false;
  }
}

/** What a sweep does about one watched identity. */
export type DriftDecision =
  /** Nothing changes (a first miss is only counted). */
  | { action: 'NONE'; misses: number }
  /** VERIFIED → DEGRADED: SES left SUCCESS, or the probe confirmed records gone or wrong. */
  | { action: 'DEGRADE'; misses: number; causes: DriftCause[] }
  /** Still DEGRADED: records the stack manages are put back while they are wrong. */
  | { action: 'STILL_DEGRADED'; misses: number; causes: DriftCause[] }
  /** DEGRADED → VERIFIED: SES at SUCCESS and every record right. */
  | { action: 'RECOVER'; misses: 0 };

/** Why an identity is degraded. */
export type DriftCause = 'SES_NOT_SUCCESS' | 'RECORDS_WRONG';

/**
 * The drift decision for a VERIFIED or DEGRADED identity, from SES's status in this sweep and
 * this sweep's probe (null when it was not probed). SES leaving SUCCESS is drift at once (SES
 * has its own retries before it says so); our probe needs CONFIRMING_MISSES in a row, so a
 * resolver's hiccup or a record being replaced is not drift.
 */
export function decideDrift(
  status: 'VERIFIED' | 'DEGRADED',
  sesStatus: string,
  probe: ProbeResult[] | null,
  previousMisses: number,
): DriftDecision {
  const verdict = probe === null ? 'UNKNOWN' : recordsVerdict(probe);
  const misses =
    verdict === 'WRONG' ? previousMisses + 1 : verdict === 'RIGHT' ? 0 : previousMisses;
  const causes: DriftCause[] = [];
  if (sesStatus !== 'SUCCESS') causes.push('SES_NOT_SUCCESS');
  if (verdict === 'WRONG' && misses >= CONFIRMING_MISSES) causes.push('RECORDS_WRONG');
  if (status === 'VERIFIED') {
    return causes.length > 0 ? { action: 'DEGRADE', misses, causes } : { action: 'NONE', misses };
  }
  if (sesStatus === 'SUCCESS' && verdict === 'RIGHT') return { action: 'RECOVER', misses: 0 };
  // A degraded identity's wrong records need no second look: the drift is established.
  if (verdict === 'WRONG' && !causes.includes('RECORDS_WRONG')) causes.push('RECORDS_WRONG');
  return { action: 'STILL_DEGRADED', misses, causes };
}

/** Why the sweeper will not restart an identity SES has FAILED, or null when it will. */
export function restartRefusal(item: {
  identityType: 'DOMAIN' | 'EMAIL_ADDRESS';
  autoRestart: boolean;
  restartRequest: { DkimSigningAttributes?: Record<string, unknown> } | null;
  latestRunStartedBy: string | undefined;
  latestRunStatus: string | undefined;
}): string | null {
  if (item.identityType === 'EMAIL_ADDRESS') {
    return 'an address restarts with a new verification message to its owner, which the stack does not send unasked: send the request again';
  }
  if (!item.autoRestart)
    return 'AutoRestart is false for this identity: send the request again to restart it';
  if (item.restartRequest === null) {
    return 'the identity changed how it signs since it was created: send a creation request (or the DKIM change) again to restart it';
  }
  const signing = item.restartRequest.DkimSigningAttributes;
  if (
    signing?.DomainSigningSelector !== undefined &&
    signing.GenerateDomainSigningKey === undefined
  ) {
    return 'SES needs its BYODKIM private key again, and the stack keeps no key: send the request again with the key (its secret)';
  }
  if (item.latestRunStartedBy === 'AUTO_RESTART' && item.latestRunStatus !== 'VERIFIED') {
    return 'the stack already restarted this verification once and it did not succeed: send the request again to try once more';
  }
  return null;
}
