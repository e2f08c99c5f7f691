/**
 * When a waiting run looks again on its own. It does not poll: the sweeper wakes it as soon as
 * SES's view of its identity changes, and a person's "check now" wakes it at once. Its own look
 * is a safety net (should a sweep be missed) and, at the end, the deadline.
 */

/** Deadlines from the identity's creation: SES stops looking for DKIM records after 72 hours,
 * and the link in an address's verification message expires after 24 hours. */
export const DEADLINE_SECONDS = { DOMAIN: 72 * 3600, EMAIL_ADDRESS: 24 * 3600 } as const;

/** A run's own look, when nothing woke it sooner. */
export const SAFETY_NET_SECONDS = 24 * 3600;

/**
 * Seconds until the run's next look of its own: the safety net's interval, never past the
 * deadline, so the last look happens at the deadline itself; at least one second (the state
 * machine's TimeoutSecondsPath takes a positive integer).
 */
export function nextLookSeconds(secondsToDeadline: number): number {
  return Math.max(1, Math.ceil(Math.min(SAFETY_NET_SECONDS, secondsToDeadline)));
}

/** The first look of a run waiting on parts beyond the identity (MAIL FROM, DMARC), and the longest. */
export const PARTS_FIRST_LOOK_SECONDS = 5 * 60;
export const PARTS_MAX_LOOK_SECONDS = 3600;

/**
 * Seconds until the next look of a run whose identity SES has verified but whose other parts
 * (SES's MAIL FROM status, a DMARC record) are not ready yet. Nothing wakes such a run (the
 * sweeper reads SES's VerificationStatus only), so it looks on its own: after 5 minutes, then
 * twice as long each time up to an hour. Each look probes DNS and asks SES only when every record
 * is right, so the SES budget pays one read per look at most.
 */
export function nextPartsLookSeconds(secondsToDeadline: number, previous: number | null): number {
  const wanted =
    previous === null
      ? PARTS_FIRST_LOOK_SECONDS
      : Math.min(PARTS_MAX_LOOK_SECONDS, Math.max(PARTS_FIRST_LOOK_SECONDS, previous * 2));
  return Math.max(1, Math.ceil(Math.min(wanted, secondsToDeadline)));
}
