import { describe, expect, it } from 'vitest';
import { nextCheckSeconds, SCHEDULE } from '#steps/check-verification/schedule.js';

const farDeadline = 72 * 3600;

describe('nextCheckSeconds', () => {
  it.each([
    ['records-ok', 60],
    ['records-missing', 120],
    ['address', 60],
  ] as const)('starts a %s pace at its first interval (%i s)', (mode, first) => {
    expect(
      nextCheckSeconds({
        mode,
        previousMode: null,
        previousSeconds: 60,
        secondsToDeadline: farDeadline,
      }),
    ).toBe(first);
  });

  it('grows the interval by the pace factor while the mode stays the same', () => {
    expect(
      nextCheckSeconds({
        mode: 'records-missing',
        previousMode: 'records-missing',
        previousSeconds: 240,
        secondsToDeadline: farDeadline,
      }),
    ).toBe(480);
  });

  it.each([
    ['records-ok', 300],
    ['records-missing', 3600],
    ['address', 900],
  ] as const)('never waits longer than %s allows (%i s)', (mode, max) => {
    expect(
      nextCheckSeconds({
        mode,
        previousMode: mode,
        previousSeconds: 100_000,
        secondsToDeadline: farDeadline,
      }),
    ).toBe(max);
  });

  it('goes back to checking every minute as soon as every record is right', () => {
    expect(
      nextCheckSeconds({
        mode: 'records-ok',
        previousMode: 'records-missing',
        previousSeconds: 3600,
        secondsToDeadline: farDeadline,
      }),
    ).toBe(SCHEDULE['records-ok'].firstSeconds);
  });

  it('stops at the deadline so that the last check happens there', () => {
    expect(
      nextCheckSeconds({
        mode: 'records-missing',
        previousMode: 'records-missing',
        previousSeconds: 3600,
        secondsToDeadline: 42.2,
      }),
    ).toBe(43);
  });
});
