/**
 * EventBridge Scheduler's rate schedules (`Events: Type: ScheduleV2` on a function), ticking on
 * the sandbox's clock: every period the function is invoked with the schedule's input. A function
 * with reserved concurrency that is still running when the next tick comes is throttled, and the
 * tick is dropped when the schedule's RetryPolicy allows no retries (the sweeper's: the next
 * sweep comes a minute later anyway); otherwise it is tried again once the function is free.
 */

export interface ScheduleOptions {
  name: string;
  /** `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`. */
  expression: string;
  input: string;
  maximumRetryAttempts: number;
  /** At most this many invocations of the function at once (ReservedConcurrentExecutions). */
  reservedConcurrency: number | undefined;
  invoke: (event: unknown) => Promise<unknown>;
  onError?: (error: unknown, name: string) => void;
  /**
   * Sets the timer of the next tick; returns its cancel. The sandbox marks it as background
   * (VirtualClock.setBackgroundTimeout): a schedule alone gives time no reason to race.
   */
  setTimer?: (callback: () => void, ms: number) => () => void;
}

export interface ScheduleStats {
  ticks: number;
  invocations: number;
  /** Ticks that found the function at its reserved concurrency. */
  throttled: number;
  errors: number;
}

const UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** The period of a rate expression, in milliseconds. */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  const value = Number(match?.[1]);
  const unit = UNITS[match?.[2] ?? ''];
  if (!match || unit === undefined || value < 1 || (value === 1) !== !match[2]?.endsWith('s')) {
    throw new Error(
      `The sandbox runs rate schedules such as rate(1 minute) or rate(5 minutes), not "${expression}"`,
    );
  }
  return value * unit;
}

export class Schedule {
  readonly stats: ScheduleStats = { ticks: 0, invocations: 0, throttled: 0, errors: 0 };
  private readonly periodMs: number;
  private cancel: (() => void) | undefined;
  private running = 0;
  private waiting = false;

  constructor(private readonly options: ScheduleOptions) {
    this.periodMs = ratePeriodMs(options.expression);
  }

  /** The first tick comes one period from now. */
  start(): void {
    this.arm();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  private arm(): void {
    const setTimer =
      this.options.setTimer ??
      ((callback: () => void, ms: number) => {
        const timer = setTimeout(callback, ms);
        return () => clearTimeout(timer);
      });
    this.cancel = setTimer(() => {
      this.arm();
      this.tick();
    }, this.periodMs);
  }

  private tick(): void {
    this.stats.ticks += 1;
    const { reservedConcurrency, maximumRetryAttempts } = this.options;
    if (reservedConcurrency !== undefined && this.running >= reservedConcurrency) {
      this.stats.throttled += 1;
      // Scheduler retries a throttled invocation only when its retry policy allows it.
      if (maximumRetryAttempts > 0) this.waiting = true;
      return;
    }
    this.invoke();
  }

  private invoke(): void {
    this.running += 1;
    this.stats.invocations += 1;
    const event = JSON.parse(this.options.input) as unknown;
    this.options
      .invoke(event)
      .catch((error: unknown) => {
        this.stats.errors += 1;
        this.options.onError?.(error, this.options.name);
      })
      .finally(() => {
        this.running -= 1;
        if (this.waiting && this.cancel !== undefined) {
          this.waiting = false;
          this.invoke();
        }
      });
  }
}
