import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '#sandbox/clock.js';

// Real time, captured before the clock fakes the timers: work the clock cannot see.
const realSetTimeout = globalThis.setTimeout;
const realDelay = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

describe('the virtual clock', () => {
  let clock: VirtualClock;

  beforeEach(() => {
    clock = new VirtualClock({ start: Date.parse('2026-11-23T10:00:00Z') });
    clock.install();
  });
  afterEach(() => clock.uninstall());

  it('never moves time while work under runWork is busy, even with work it cannot see', async () => {
    let timeoutFired = false;
    // A Task's TimeoutSeconds, set by the engine outside the work.
    setTimeout(() => {
      timeoutFired = true;
    }, 60_000);

    await clock.runWork(async () => {
      // File I/O and a real pause: neither is an SDK attempt nor a DNS query.
      await readFile(new URL(import.meta.url));
      await realDelay(50);
      expect(timeoutFired).toBe(false);
    });

    expect(clock.elapsedMs()).toBe(0);
    await realDelay(50);
    expect(timeoutFired).toBe(true);
  });

  it('lets time flow at an idle pace while only a background timer (a schedule) is pending', async () => {
    let ticked = false;
    const cancel = clock.setBackgroundTimeout(() => {
      ticked = true;
    }, 60_000);

    await realDelay(100);
    const idle = clock.elapsedMs();
    // Something waits for time now: it races to that, and the schedule's tick comes first.
    setTimeout(() => undefined, 3_600_000);
    await realDelay(300);
    cancel();

    expect(idle).toBeLessThan(60_000);
    expect(ticked).toBe(true);
    expect(clock.elapsedMs()).toBeGreaterThanOrEqual(3_600_000);
  });

  it('fast-forwards on request past a schedule, firing each tick on the way, and stops there', async () => {
    const ticks: number[] = [];
    const schedule = () => {
      cancel = clock.setBackgroundTimeout(() => {
        ticks.push(clock.elapsedMs());
        schedule();
      }, 60_000);
    };
    let cancel = () => {};
    schedule();

    await clock.advance(5 * 60_000);
    const reached = clock.elapsedMs();
    await realDelay(50);
    cancel();

    expect(ticks.slice(0, 5)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    expect(reached).toBeGreaterThanOrEqual(300_000);
    // Back at the idle pace afterwards: no sixth tick within 50 real milliseconds.
    expect(clock.elapsedMs()).toBeLessThan(360_000);
  });

  it('moves time while the work sleeps on a timer it set itself', async () => {
    const slept = await clock.runWork(async () => {
      const before = clock.nowMs();
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      return clock.nowMs() - before;
    });

    expect(slept).toBe(30_000);
  });

  it('holds time again once the work wakes up, until it sleeps again or ends', async () => {
    let otherFired = false;
    setTimeout(() => {
      otherFired = true;
    }, 45_000);

    await clock.runWork(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      await realDelay(50);
      // Awake and busy: the timer 15 s later has not fired.
      expect(otherFired).toBe(false);
    });
  });

  it('holds time again once the work clears the timer it would have slept on', async () => {
    let otherFired = false;
    setTimeout(() => {
      otherFired = true;
    }, 45_000);

    await clock.runWork(async () => {
      const deadline = setTimeout(() => undefined, 10_000);
      clearTimeout(deadline);
      await realDelay(50);
      expect(otherFired).toBe(false);
    });
  });

  it('lets work sleep on a retry back-off while another SDK attempt of the same work is in flight', async () => {
    // The clock's per-attempt middleware, as trackClient adds it to an SDK client.
    let middleware!: (next: () => Promise<unknown>) => (args: unknown) => Promise<unknown>;
    clock.trackClient({
      middlewareStack: {
        add: (added: never) => {
          middleware = added;
        },
      },
    });

    const slept = await clock.runWork(async () => {
      let finish!: (value: unknown) => void;
      const otherAttempt = middleware(() => new Promise((resolve) => (finish = resolve)))({});
      const before = clock.nowMs();
      // A back-off set while the other call's HTTP attempt is still out.
      const backOff = new Promise((resolve) => setTimeout(resolve, 500));
      finish('response');
      await otherAttempt;
      await backOff;
      return clock.nowMs() - before;
    });

    expect(slept).toBe(500);
  });
});

describe('the virtual clock with nothing scheduled', () => {
  it('still flows, at most at its pace, so rate buckets refill between two commands', async () => {
    const clock = new VirtualClock({ maxSpeed: 60 });
    clock.install();
    try {
      const started = performance.now();
      await realDelay(200);
      const real = performance.now() - started;

      expect(clock.elapsedMs()).toBeGreaterThan(0);
      expect(clock.elapsedMs()).toBeLessThanOrEqual(60 * real);
    } finally {
      clock.uninstall();
    }
  });
});
