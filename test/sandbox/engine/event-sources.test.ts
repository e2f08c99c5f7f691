import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '#sandbox/clock.js';
import { SqsEmulator } from '#sandbox/emulators/sqs.js';
import { EventSourceMapping } from '#sandbox/engine/event-source-mapping.js';
import { ratePeriodMs, Schedule } from '#sandbox/engine/schedules.js';

const START = Date.parse('2026-11-02T09:00:00.000Z');

describe('an SQS event source mapping', () => {
  let clock: VirtualClock;
  let queues: SqsEmulator;
  let mapping: EventSourceMapping | undefined;
  beforeEach(() => {
    clock = new VirtualClock({ start: START });
    clock.install();
    queues = new SqsEmulator({ now: () => clock.now(), baseUrl: 'https://sqs.test' });
    queues.createQueue('dead.fifo', { FifoQueue: 'true' });
    queues.createQueue('work.fifo', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '60',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dead.fifo',
        maxReceiveCount: 3,
      }),
    });
  });
  afterEach(async () => {
    await mapping?.stop();
    queues.close();
    clock.uninstall();
  });

  const url = 'https://sqs.test/000000000000/work.fifo';
  const send = (body: string, group = 'g') =>
    queues.sendMessage(url, { MessageBody: body, MessageGroupId: group });
  /** Runs a mapping whose function answers each batch with `respond`, until `until` holds. */
  async function drive(
    respond: (event: SQSEvent, at: number) => unknown,
    until: () => boolean,
    options: { batchSize?: number; reportBatchItemFailures?: boolean } = {},
  ) {
    let running = 0;
    let overlapped = false;
    const batches: { at: number; bodies: string[]; receives: string[] }[] = [];
    mapping = new EventSourceMapping({
      functionName: 'worker',
      queues,
      queueUrl: url,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:work.fifo',
      region: 'us-east-1',
      batchSize: options.batchSize ?? 10,
      reportBatchItemFailures: options.reportBatchItemFailures ?? true,
      invoke: (event) =>
        clock.runWork(async () => {
          running += 1;
          overlapped ||= running > 1;
          // The function sleeps a moment, as the SES worker does on its budget.
          await new Promise((resolve) => setTimeout(resolve, 1000));
          running -= 1;
          batches.push({
            at: (Date.now() - START) / 1000,
            bodies: event.Records.map((record) => record.body),
            receives: event.Records.map((record) => record.attributes.ApproximateReceiveCount),
          });
          return respond(event, Date.now() - START);
        }),
    });
    mapping.start();
    while (!until()) await new Promise((resolve) => setTimeout(resolve, 60_000));
    return { batches, overlapped };
  }

  it('deletes what succeeded and gives back only the reported failures, after their visibility time-out', async () => {
    for (const body of ['a', 'b', 'c']) send(body);
    let failedOnce = false;

    const { batches, overlapped } = await drive(
      (event) => {
        if (failedOnce) return { batchItemFailures: [] };
        failedOnce = true;
        const b = event.Records.find((record) => record.body === 'b');
        return { batchItemFailures: [{ itemIdentifier: b?.messageId }] };
      },
      () => queues.depth(url) === 0,
    );

    expect(batches.map(({ bodies, receives }) => [bodies, receives])).toEqual([
      [
        ['a', 'b', 'c'],
        ['1', '1', '1'],
      ],
      [['b'], ['2']],
    ]);
    // b came back when its 60-second visibility time-out ran out, not before.
    expect(batches[1]?.at).toBeGreaterThanOrEqual(61);
    expect(overlapped).toBe(false);
  });

  it('gives the whole batch back when the function fails, or names a message not in it', async () => {
    send('x');
    let calls = 0;

    const { batches } = await drive(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('crashed');
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-the-batch' }] };
        return {};
      },
      () => queues.depth(url) === 0,
    );

    expect(batches.map((batch) => batch.receives)).toEqual([['1'], ['2'], ['3']]);
    expect(mapping?.stats).toMatchObject({ batches: 3, deleted: 1, returned: 2, errors: 1 });
  });

  it('sends a message that keeps failing to the dead-letter queue after maxReceiveCount', async () => {
    send('poison');

    const { batches } = await drive(
      (event) => ({
        batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
      }),
      () => queues.depth('https://sqs.test/000000000000/dead.fifo') === 1,
    );

    expect(batches).toHaveLength(3);
    expect(queues.depth(url)).toBe(0);
  });

  it("runs a FIFO queue's message groups side by side, never two batches of one group", async () => {
    for (const [body, group] of [
      ['a1', 'a'],
      ['a2', 'a'],
      ['a3', 'a'],
      ['b1', 'b'],
    ] as const) {
      send(body, group);
    }

    const { batches, overlapped } = await drive(
      () => ({}),
      () => queues.depth(url) === 0,
      { batchSize: 1 },
    );

    // a and b at once; a's next only once its previous is deleted, in order.
    expect(batches.map(({ at, bodies }) => [at, bodies])).toEqual([
      [1, ['a1']],
      [1, ['b1']],
      [2, ['a2']],
      [3, ['a3']],
    ]);
    expect(overlapped).toBe(true);
  });

  it('gives a failure back when the function shortens its visibility, holding its group until then', async () => {
    send('throttled', 'a');
    send('next', 'a');
    let failedOnce = false;

    const { batches } = await drive(
      (event) => {
        if (failedOnce) return {};
        failedOnce = true;
        const [first] = event.Records;
        queues.changeMessageVisibility(url, first?.receiptHandle, 5);
        return {
          batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
        };
      },
      () => queues.depth(url) === 0,
      { batchSize: 1 },
    );

    // Back five seconds after the failure (at 1 s), not after the 60-second time-out; the
    // group's next message waited behind it.
    expect(batches.map(({ at, bodies }) => [at, bodies])).toEqual([
      [1, ['throttled']],
      [7, ['throttled']],
      [8, ['next']],
    ]);
  });
});

describe('a rate schedule', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock({ start: START });
    clock.install();
  });
  afterEach(() => clock.uninstall());

  it('reads rate expressions as Scheduler does', () => {
    expect(ratePeriodMs('rate(1 minute)')).toBe(60_000);
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(2 hours)')).toBe(7_200_000);
    expect(() => ratePeriodMs('rate(1 minutes)')).toThrow();
    expect(() => ratePeriodMs('cron(0 * * * ? *)')).toThrow();
  });

  it('invokes every period, and drops a tick that finds the function still running', async () => {
    const started: number[] = [];
    const schedule = new Schedule({
      name: 'sweeper',
      expression: 'rate(1 minute)',
      input: '{}',
      maximumRetryAttempts: 0,
      reservedConcurrency: 1,
      invoke: (event) =>
        clock.runWork(async () => {
          started.push((Date.now() - START) / 60_000);
          expect(event).toEqual({});
          // The second invocation outlasts the next tick.
          if (started.length === 2) await new Promise((resolve) => setTimeout(resolve, 90_000));
        }),
    });

    schedule.start();
    await new Promise((resolve) => setTimeout(resolve, 5 * 60_000 + 1));
    schedule.stop();

    expect(started).toEqual([1, 2, 4, 5]);
    expect(schedule.stats).toMatchObject({ ticks: 5, invocations: 4, throttled: 1 });
  });
});
