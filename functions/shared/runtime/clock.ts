/**
 * The time every step reads. In Lambda it is the system clock; vitest fake timers fake `Date`,
 * and the local sandbox installs its virtual clock with `useClock`, so that the state machine's
 * waits, the emulated SES and the steps all agree on what time it is.
 */
export interface Clock {
  now(): Date;
}

const systemClock: Clock = { now: () => new Date() };
let current: Clock = systemClock;

export const clock: Clock = { now: () => current.now() };

/** Replaces the clock the steps read; `useClock()` restores the system clock. */
export function useClock(replacement: Clock = systemClock): void {
  current = replacement;
}
