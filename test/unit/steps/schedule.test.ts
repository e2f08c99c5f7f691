import { describe, expect, it } from 'vitest';
import {
  DEADLINE_SECONDS,
  nextLookSeconds,
  SAFETY_NET_SECONDS,
} from '#steps/check-verification/schedule.js';

const HOUR = 3600;

describe('nextLookSeconds', () => {
  it.each([
    ['72 hours away', 72 * HOUR, 24 * HOUR],
    ['just over a day away', 24 * HOUR + 1, 24 * HOUR],
    ['exactly a day away', 24 * HOUR, 24 * HOUR],
    ['an hour away', HOUR, HOUR],
    ['42.2 s away', 42.2, 43],
    ['half a second away', 0.5, 1],
  ])('with the deadline %s, looks again in %i s', (_when, secondsToDeadline, expected) => {
    expect(nextLookSeconds(secondsToDeadline)).toBe(expected);
  });

  it.each([
    ['at', 0],
    ['past', -90],
  ])(
    'answers 1 s, never 0 or less, %s the deadline (TimeoutSecondsPath takes a positive integer)',
    (_when, secondsToDeadline) => {
      expect(nextLookSeconds(secondsToDeadline)).toBe(1);
    },
  );

  it('looks on its own once a day, as a safety net should a sweep be missed', () => {
    expect(SAFETY_NET_SECONDS).toBe(24 * HOUR);
  });

  it.each([
    ['DOMAIN', 72, [24, 48, 72]],
    ['EMAIL_ADDRESS', 24, [24]],
  ] as const)(
    'gives a %s that nothing wakes its own looks until the %i-hour deadline, the last one at it',
    (type, hours, looks) => {
      expect(DEADLINE_SECONDS[type]).toBe(hours * HOUR);
      // The run's own looks, after its first, when no sweeper or person wakes it.
      const at: number[] = [];
      let elapsed = 0;
      while (elapsed < DEADLINE_SECONDS[type]) {
        elapsed += nextLookSeconds(DEADLINE_SECONDS[type] - elapsed);
        at.push(elapsed / HOUR);
      }
      expect(at).toEqual(looks);
    },
  );
});
