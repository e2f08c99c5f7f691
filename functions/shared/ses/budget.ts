import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * SES throttles its control plane account-wide, per action, at a low rate (its documentation
 * gives one request per second for identity actions). The workflow's SES calls are made by the
 * SES request worker, each lane of actions (a message group of the SES request queue) in one
 * worker at a time, and each call first takes a slot from this budget: at most
 * `requestsPerSecond` calls of each action, in the order they asked, so the fleet never exceeds
 * SES's rate however many runs are waiting.
 */
export class SesBudget {
  private readonly intervalMs: number;
  /** When each action may next be called (epoch ms). */
  private readonly nextFree = new Map<string, number>();

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (!(requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be above 0');
    this.intervalMs = 1000 / requestsPerSecond;
  }

  /**
   * Waits for the action's next slot and takes it. The first call of an action waits one
   * interval too: a worker that has just started may follow one that called SES a moment ago.
   */
  async take(action: string): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.nextFree.get(action) ?? now + this.intervalMs);
    this.nextFree.set(action, slot + this.intervalMs);
    if (slot > now) await sleep(slot - now);
  }
}

/** Global timers, not node:timers/promises: the sandbox's virtual clock drives these. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const ambient = new AsyncLocalStorage<SesBudget>();

/**
 * Runs `work` with every SES call it makes paced by `budget`. The SES client checks for a
 * budget on each call (functions/shared/aws/clients/sesv2.ts); code outside such a scope, the
 * API's own reads among it, is not paced.
 */
export function withSesBudget<T>(budget: SesBudget, work: () => Promise<T>): Promise<T> {
  return ambient.run(budget, work);
}

/** The budget the current call runs under, if any. */
export function currentSesBudget(): SesBudget | undefined {
  return ambient.getStore();
}
