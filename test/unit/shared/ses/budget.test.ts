import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { currentSesBudget, SesBudget, withSesBudget } from '#shared/ses/budget.js';

describe('SesBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Takes a slot for each action in turn and records when each call would go out. */
  async function callTimes(
    budget: SesBudget,
    actions: string[],
  ): Promise<Record<string, number[]>> {
    const times: Record<string, number[]> = {};
    const calls = actions.map(async (action) => {
      await budget.take(action);
      const list = times[action] ?? [];
      list.push(Date.now());
      times[action] = list;
    });
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    return times;
  }

  it('lets each action through at most once per interval, in the order asked', async () => {
    const times = await callTimes(new SesBudget(1), [
      'CreateEmailIdentity',
      'CreateEmailIdentity',
      'CreateEmailIdentity',
    ]);

    expect(times.CreateEmailIdentity).toEqual([1000, 2000, 3000]);
  });

  it('keeps a budget per action: two actions go side by side', async () => {
    const times = await callTimes(new SesBudget(1), [
      'CreateEmailIdentity',
      'GetEmailIdentity',
      'CreateEmailIdentity',
      'GetEmailIdentity',
    ]);

    expect(times).toEqual({ CreateEmailIdentity: [1000, 2000], GetEmailIdentity: [1000, 2000] });
  });

  it('follows the configured rate', async () => {
    const times = await callTimes(new SesBudget(4), ['ListEmailIdentities', 'ListEmailIdentities']);

    expect(times.ListEmailIdentities).toEqual([250, 500]);
  });

  it('does not wait for a slot that has already passed', async () => {
    const budget = new SesBudget(1);
    await callTimes(budget, ['GetEmailIdentity']);
    vi.setSystemTime(60_000);

    const times = await callTimes(budget, ['GetEmailIdentity']);

    expect(times.GetEmailIdentity).toEqual([60_000]);
  });

  it('refuses a rate that is not above zero', () => {
    expect(() => new SesBudget(0)).toThrow(RangeError);
  });
});

describe('withSesBudget', () => {
  it('is the current budget inside its scope only, across awaits', async () => {
    const budget = new SesBudget(1);

    const inside = await withSesBudget(budget, async () => {
      await Promise.resolve();
      return currentSesBudget();
    });

    expect(inside).toBe(budget);
    expect(currentSesBudget()).toBeUndefined();
  });
});
