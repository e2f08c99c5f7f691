/**
 * The sandbox's one virtual clock. It fakes the global timers and `Date` with
 * @sinonjs/fake-timers, so the state machine's Wait and Retry timers, the SDK's retry backoff,
 * the DNS provider's INSYNC polling, the emulators' schedules and every `clock.now()` in the
 * steps read and wait on the same time. A driver moves that time forward to the next timer only
 * when no real work is in flight (an HTTP request, a DNS query, a key being generated), so
 * 72 hours pass in seconds and the run stays causal: nothing can happen "later" before what
 * happens "now" is finished.
 *
 * A Task's work (and an API handler's) runs under `runWork`: time stands still while it works and
 * moves only while it sleeps on a timer it set itself (an SDK retry back-off, Route 53 INSYNC
 * polling), as the same code would sleep in Lambda. Its SDK attempts, DNS queries and key
 * generation count as real work on their own; whatever else it does between them (reading the
 * SDK's config files, importing a module, computing) counts too, because the work holds time
 * until it sleeps.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import FakeTimers, { type Clock as FakeClock } from '@sinonjs/fake-timers';
import type { Clock } from '#shared/runtime/clock.js';

// Captured before the fake is installed: the driver itself runs on real time.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetImmediate = globalThis.setImmediate;

/** Consecutive idle event-loop turns before the driver trusts that nothing is in flight. */
const SETTLE_TURNS = 3;

type Release = () => void;

interface FakeTimer {
  callAt: number;
}
type InstalledClock = FakeClock & {
  uninstall(): void;
};

let active: VirtualClock | undefined;

/** One piece of work under `runWork`: a Task's handler, an API handler. */
interface WorkScope {
  /** Pending timers the work set outside an HTTP attempt: what it sleeps on, by timer id. */
  sleeps: Set<number>;
  /** Held while the work is not asleep. */
  hold: Release | undefined;
  done: boolean;
}

const workScope = new AsyncLocalStorage<WorkScope>();
/**
 * Set inside an SDK attempt: timers created there are the HTTP client's own watchdogs (socket
 * and connection time-outs), not sleeps. Per attempt, so that a retry back-off of one call is a
 * sleep even while another call of the same work is in flight.
 */
const inAttempt = new AsyncLocalStorage<true>();

type TimerFunction = (callback: unknown, delay?: number, ...args: unknown[]) => unknown;
type ClearFunction = (id: unknown) => void;
const timerKey = (id: unknown): number | undefined => {
  if (typeof id === 'number') return id;
  // fake-timers' Node-style timer objects convert to their numeric id.
  if (id !== null && typeof id === 'object') return Number(id);
  return undefined;
};

/**
 * Counts each HTTP attempt of an SDK client as real work of the installed clock (or `fallback`).
 * The middleware sits in the deserialize step, inside the SDK's retry loop, so the retry backoff
 * itself (a faked timer) is not work and lets time move on, as it would in AWS. A client made
 * once at module scope outlives one test's clock: the clock is looked up per request.
 */
export function countRequestsAsWork<T extends SdkClientLike>(
  client: T,
  fallback?: VirtualClock,
): T {
  const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as AddMiddleware;
  add(
    (next) => async (args) => {
      const release = (active ?? fallback)?.busy() ?? (() => undefined);
      try {
        return await inAttempt.run(true, () => next(args));
      } finally {
        release();
      }
    },
    { step: 'deserialize', name: 'sandboxVirtualClockRealWork', priority: 'low' },
  );
  return client;
}

/** The installed clock, if any (real-work tracking outside the stack reports to it). */
export function activeClock(): VirtualClock | undefined {
  return active;
}

/** Anything with a Smithy middleware stack: every AWS SDK v3 client. */
export interface SdkClientLike {
  middlewareStack: { add(middleware: never, options: never): unknown };
}

type AddMiddleware = (
  middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
  options: { step: 'deserialize'; name: string; priority: 'low' },
) => void;

export interface VirtualClockOptions {
  /** Where virtual time starts (epoch ms); the real now by default. */
  start?: number;
  /**
   * At most this many virtual milliseconds per real millisecond while idle; unlimited by
   * default. Server mode can slow time down so a person can act before a long wait is over.
   */
  maxSpeed?: number;
}

/**
 * The virtual clock. `install()` fakes the timers and starts the driver; everything real the
 * sandbox does goes through `busy()` / `track()` (SDK clients through `trackClient`), and
 * `hold()` stops time while a caller looks at the world (a test adding DNS records mid-run).
 */
export class VirtualClock implements Clock {
  private fake: InstalledClock | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private running = false;
  private wake: (() => void) | undefined;
  private readonly startMs: number;
  private readonly maxSpeed: number | undefined;
  private advances = 0;
  private readonly backgroundTimers = new Set<number>();
  /** Where a fast-forward (`advance`) goes, and who waits for it. */
  private fastForwardTo: number | undefined;
  private fastForwardWaiters: { target: number; resolve: () => void }[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.startMs = Math.floor(options.start ?? Date.now());
    this.maxSpeed = options.maxSpeed;
  }

  /** Fakes the global timers and `Date`, and starts moving virtual time when idle. */
  install(): void {
    if (this.fake) return;
    this.fake = FakeTimers.install({
      now: this.startMs,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      shouldClearNativeTimers: true,
      loopLimit: 1_000_000,
    }) as InstalledClock;
    this.watchWorkTimers();
    this.running = true;
    active = this;
    void this.drive();
  }

  /** Stops the driver and gives the process its real timers back. */
  uninstall(): void {
    this.running = false;
    if (active === this) active = undefined;
    this.wake?.();
    this.fake?.uninstall();
    this.fake = undefined;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return this.fake ? this.fake.now : Date.now();
  }

  /** Virtual milliseconds since the clock started. */
  elapsedMs(): number {
    return this.nowMs() - this.startMs;
  }

  /** How many times the driver moved time forward (for progress output and tests). */
  get advanceCount(): number {
    return this.advances;
  }

  /**
   * Moves virtual time `ms` forward as fast as the work allows, even when nothing but a schedule
   * is pending (when time otherwise flows at the sandbox's idle pace): every timer due on the
   * way fires, in order, and each one's work is done before time moves on. Resolves there.
   */
  advance(ms: number): Promise<void> {
    const target = this.nowMs() + Math.max(0, ms);
    this.fastForwardTo = Math.max(this.fastForwardTo ?? target, target);
    const reached = new Promise<void>((resolve) => {
      this.fastForwardWaiters.push({ target, resolve });
    });
    // The driver may be pausing in real time, at the idle pace: go now.
    this.wake?.();
    return reached;
  }

  /** Number of timers waiting on virtual time. */
  pendingTimers(): number {
    return this.fake?.countTimers() ?? 0;
  }

  /**
   * A timer for work that recurs on its own, such as a schedule: while only such timers are
   * pending, nothing is waiting for time to pass, and it flows at the pace of an idle sandbox
   * (at least real time) instead of racing from one tick to the next. Returns its cancel.
   */
  setBackgroundTimeout(callback: () => void, ms: number): () => void {
    let key: number | undefined;
    const handle = setTimeout(() => {
      if (key !== undefined) this.backgroundTimers.delete(key);
      callback();
    }, ms);
    key = timerKey(handle);
    if (key !== undefined) this.backgroundTimers.add(key);
    return () => {
      clearTimeout(handle);
      if (key !== undefined) this.backgroundTimers.delete(key);
    };
  }

  /** Marks real work as in flight; time stands still until every release is called. */
  busy(): Release {
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.wake?.();
      }
    };
  }

  /** Stops time until the returned function is called. */
  hold(): Release {
    return this.busy();
  }

  /**
   * Runs a Task's (or an API handler's) work: time stands still while it works and moves while
   * it sleeps on timers it set itself, so a Task's own `TimeoutSeconds` can only pass in time
   * the work spent asleep, never while it was busy.
   */
  async runWork<T>(work: () => Promise<T>): Promise<T> {
    const scope: WorkScope = { sleeps: new Set(), hold: this.busy(), done: false };
    try {
      return await workScope.run(scope, work);
    } finally {
      scope.done = true;
      scope.hold?.();
      scope.hold = undefined;
    }
  }

  /** Runs real work with time standing still until it settles. */
  async track<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    const release = this.busy();
    try {
      return await (typeof work === 'function' ? work() : work);
    } finally {
      release();
    }
  }

  /**
   * Counts each HTTP attempt of an SDK client as real work (see `countRequestsAsWork`), for
   * this clock or whichever is installed when the request is made.
   */
  trackClient<T extends SdkClientLike>(client: T): T {
    return countRequestsAsWork(client, this);
  }

  /** Resolves once nothing real is in flight (a real-time instant with no work counted). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
      let quiet = true;
      for (let turn = 0; turn < SETTLE_TURNS; turn += 1) {
        await new Promise<void>((resolve) => realSetImmediate(resolve));
        if (this.inFlight > 0) {
          quiet = false;
          break;
        }
      }
      if (quiet) return;
    }
  }

  /**
   * Wraps the faked global timers so that a timer set by work under `runWork` (outside an HTTP
   * attempt) lets that work sleep: its hold is released while any such timer is pending, and
   * taken again when the last one fires or is cleared.
   */
  private watchWorkTimers(): void {
    const timers = globalThis as unknown as Record<string, TimerFunction | ClearFunction>;
    const owners = new Map<number, WorkScope>();
    const wake = (key: number | undefined) => {
      const scope = key === undefined ? undefined : owners.get(key);
      if (!scope || key === undefined) return;
      owners.delete(key);
      scope.sleeps.delete(key);
      if (!scope.done && scope.hold === undefined && scope.sleeps.size === 0) {
        scope.hold = this.busy();
      }
    };
    for (const [set, clear] of [
      ['setTimeout', 'clearTimeout'],
      ['setInterval', 'clearInterval'],
    ] as const) {
      const fakeSet = timers[set] as TimerFunction;
      const fakeClear = timers[clear] as ClearFunction;
      timers[set] = (callback: unknown, delay?: number, ...args: unknown[]) => {
        const scope = workScope.getStore();
        if (!scope || scope.done || inAttempt.getStore() || typeof callback !== 'function') {
          return fakeSet(callback, delay, ...args);
        }
        let key: number | undefined;
        const id = fakeSet(
          (...callbackArgs: unknown[]) => {
            // An interval keeps its owner asleep until it is cleared.
            if (set === 'setTimeout') wake(key);
            (callback as (...a: unknown[]) => void)(...callbackArgs);
          },
          delay,
          ...args,
        );
        key = timerKey(id);
        if (key !== undefined) {
          scope.sleeps.add(key);
          owners.set(key, scope);
          scope.hold?.();
          scope.hold = undefined;
        }
        return id;
      };
      timers[clear] = (id: unknown) => {
        wake(timerKey(id));
        fakeClear(id);
      };
    }
  }

  private async drive(): Promise<void> {
    while (this.running) {
      await this.settled();
      const fake = this.fake;
      if (!this.running || !fake) return;
      if (this.fastForwardTo !== undefined) {
        const target = this.fastForwardTo;
        const due = this.nextTimerAt();
        if (due !== undefined && due <= target) {
          this.nextSafely(fake);
        } else if (fake.now < target) {
          this.tickSafely(fake, target - fake.now);
        }
        this.endFastForwards(fake.now);
        continue;
      }
      if (this.onlyBackground(fake)) {
        // Nothing waits for time to pass (at most a schedule that recurs on its own): time still
        // flows while the sandbox waits for someone, at the pace asked for (at least real time),
        // so what depends on elapsed time (SES's and Route 53's rate buckets, a confirmation
        // link's expiry) sees the seconds between two commands, and a schedule ticks on that.
        const started = performance.now();
        await this.realPause(5);
        if (this.inFlight > 0 || !this.running || !this.onlyBackground(fake)) continue;
        const step = Math.floor((performance.now() - started) * (this.maxSpeed ?? 1));
        if (step > 0) this.tickSafely(fake, step);
        continue;
      }
      if (this.maxSpeed !== undefined) {
        // Paced: let real time pass, then move virtual time by at most maxSpeed times as much.
        const due = this.nextTimerAt();
        if (due !== undefined && (due - fake.now) / this.maxSpeed > 1) {
          const pause = Math.min(250, (due - fake.now) / this.maxSpeed);
          const started = performance.now();
          await this.realPause(pause);
          if (this.inFlight > 0 || !this.running) continue;
          const step = Math.min(due - fake.now, (performance.now() - started) * this.maxSpeed);
          this.tickSafely(fake, Math.max(0, Math.floor(step)));
          continue;
        }
      }
      this.nextSafely(fake);
    }
  }

  private nextSafely(fake: InstalledClock): void {
    try {
      fake.next();
      this.advances += 1;
    } catch (error) {
      // A timer callback threw: in real Node that is an uncaught exception, report it.
      process.stderr.write(`sandbox: a timer callback failed: ${String(error)}\n`);
    }
  }

  /** Resolves the fast-forwards that `now` has reached; the last one ends fast-forwarding. */
  private endFastForwards(now: number): void {
    const reached = this.fastForwardWaiters.filter((waiter) => waiter.target <= now);
    this.fastForwardWaiters = this.fastForwardWaiters.filter((waiter) => waiter.target > now);
    if (this.fastForwardTo !== undefined && now >= this.fastForwardTo) {
      this.fastForwardTo = undefined;
    }
    for (const waiter of reached) waiter.resolve();
  }

  /** True when no timer is pending but background ones (see `setBackgroundTimeout`). */
  private onlyBackground(fake: InstalledClock): boolean {
    return fake.countTimers() <= this.backgroundTimers.size;
  }

  private tickSafely(fake: InstalledClock, ms: number): void {
    try {
      fake.tick(ms);
      this.advances += 1;
    } catch (error) {
      process.stderr.write(`sandbox: a timer callback failed: ${String(error)}\n`);
    }
  }

  private nextTimerAt(): number | undefined {
    let due: number | undefined;
    // fake-timers' own index of pending timers (a Map in v15); it has no public "peek".
    const timers = (this.fake as { timers?: Map<number, FakeTimer> } | undefined)?.timers;
    for (const timer of timers?.values() ?? []) {
      if (due === undefined || timer.callAt < due) due = timer.callAt;
    }
    return due;
  }

  private realPause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = realSetTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        realClearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
