/**
 * When to look again. SES re-checks DNS on its own schedule and may flip to SUCCESS at any moment
 * once the records are right, so while our probe sees every record correct we look often; while
 * records are missing we are waiting for a person, so we back off. An address waits for a person
 * to follow SES's link: a middle pace.
 */
export type ScheduleMode = 'records-ok' | 'records-missing' | 'address';

interface Pace {
  firstSeconds: number;
  factor: number;
  maxSeconds: number;
}

export const SCHEDULE: Record<ScheduleMode, Pace> = {
  'records-ok': { firstSeconds: 60, factor: 1.5, maxSeconds: 300 },
  'records-missing': { firstSeconds: 120, factor: 2, maxSeconds: 3600 },
  address: { firstSeconds: 60, factor: 2, maxSeconds: 900 },
};

/** Deadlines from the identity's creation: SES stops looking for DKIM records after 72 hours,
 * and the link in an address's verification message expires after 24 hours. */
export const DEADLINE_SECONDS = { DOMAIN: 72 * 3600, EMAIL_ADDRESS: 24 * 3600 } as const;

/**
 * The seconds until the next check: the pace's first interval when the mode changes (or on the
 * first check), else the previous interval grown by the pace's factor, up to its maximum; never
 * past the deadline, so the last check happens at the deadline itself.
 */
export function nextCheckSeconds(options: {
  mode: ScheduleMode;
  previousMode: ScheduleMode | null;
  previousSeconds: number;
  secondsToDeadline: number;
}): number {
  const pace = SCHEDULE[options.mode];
  const grown =
    options.previousMode === options.mode
      ? Math.min(Math.ceil(options.previousSeconds * pace.factor), pace.maxSeconds)
      : pace.firstSeconds;
  return Math.max(0, Math.min(grown, Math.ceil(options.secondsToDeadline)));
}
