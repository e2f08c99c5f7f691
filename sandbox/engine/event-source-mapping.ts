/**
 * Lambda's SQS event source mapping, as the sandbox runs it: it takes up to BatchSize messages
 * that are available, invokes the function with the SQS event Lambda builds from them, and
 * deletes what succeeded. With ReportBatchItemFailures the function's `batchItemFailures` stay
 * on the queue (visible again after the visibility time-out, then off to the dead-letter queue
 * after maxReceiveCount); a response that names a message not in the batch, or a function error,
 * leaves the whole batch. A standard queue is read one batch at a time. A FIFO queue is read as
 * Lambda reads one, with up to one batch in flight per message group: a batch is taken whenever
 * a group with available messages has none in flight, and the queue never hands out a group
 * that another batch holds ("For FIFO queues, concurrent invocations are capped at the number of
 * message group IDs or the maximum concurrency setting, whichever is lower",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 *
 * It reads the queue in-process, woken when a message is sent or comes back into view, rather
 * than long-polling over the API on a timer: Lambda's pollers are not the account's API calls,
 * and idle polling would only move the virtual clock in small steps for nothing.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { ReceivedMessage, SqsEmulator } from '#sandbox/emulators/sqs.js';

export interface EventSourceMappingOptions {
  functionName: string;
  queues: SqsEmulator;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  /**
   * Batches of a FIFO queue in flight at once, at most (ScalingConfig's MaximumConcurrency, or the
   * function's reserved concurrency); unlimited by default, the message groups bound it. A
   * standard queue is read one batch at a time whatever this says.
   */
  maximumConcurrency?: number;
  /** Calls the function with the event (the sandbox runs it under its clock's `runWork`). */
  invoke: (event: SQSEvent) => Promise<unknown>;
  /** A function error: the batch stays on the queue. */
  onError?: (error: unknown, functionName: string) => void;
}

/** What one mapping did, for tests and the sandbox's progress. */
export interface MappingStats {
  batches: number;
  records: number;
  deleted: number;
  /** Records left on the queue: reported failures, or the whole batch of a failed invocation. */
  returned: number;
  errors: number;
}

export class EventSourceMapping {
  readonly stats: MappingStats = { batches: 0, records: 0, deleted: 0, returned: 0, errors: 0 };
  private running = false;
  private loop: Promise<void> | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  /** Batches being processed now. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: EventSourceMappingOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.poll();
  }

  /** Stops polling once the batch in hand (if any) is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.options.queues.wakeWaiters(this.options.queueUrl);
    await this.loop;
  }

  /** Resolves once no batch is being processed. */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  private async poll(): Promise<void> {
    const { queues, queueUrl, batchSize } = this.options;
    const fifo = queues.queueByUrl(queueUrl)?.fifo ?? false;
    const concurrency = fifo ? (this.options.maximumConcurrency ?? Number.POSITIVE_INFINITY) : 1;
    while (this.running) {
      if (this.inFlight.size >= concurrency) {
        await Promise.race(this.inFlight);
        continue;
      }
      const batch = queues.receiveBatch(queueUrl, batchSize);
      if (batch.length === 0) {
        // A message sent or back in view, or one deleted (its group free again).
        await queues.whenAvailable(queueUrl);
        continue;
      }
      if (this.inFlight.size === 0) {
        this.idle = new Promise((resolve) => {
          this.markIdle = resolve;
        });
      }
      const done: Promise<void> = this.process(batch)
        .catch((error: unknown) => this.options.onError?.(error, this.options.functionName))
        .finally(() => {
          this.inFlight.delete(done);
          if (this.inFlight.size === 0) this.markIdle?.();
        });
      this.inFlight.add(done);
      if (!fifo) await done;
    }
    await Promise.all(this.inFlight);
  }

  private async process(batch: ReceivedMessage[]): Promise<void> {
    const { options, stats } = this;
    stats.batches += 1;
    stats.records += batch.length;
    let response: unknown;
    try {
      response = await options.invoke({ Records: batch.map((message) => this.record(message)) });
    } catch (error) {
      stats.errors += 1;
      stats.returned += batch.length;
      options.onError?.(error, options.functionName);
      return;
    }
    const failed = this.failuresIn(response, batch);
    for (const message of batch) {
      if (failed.has(message.messageId)) continue;
      options.queues.deleteMessage(options.queueUrl, message.receiptHandle);
      stats.deleted += 1;
    }
    stats.returned += failed.size;
  }

  /**
   * The messages a partial batch response reports as failed. Without ReportBatchItemFailures
   * the response is ignored; an identifier that names no message of the batch fails it all.
   */
  private failuresIn(response: unknown, batch: ReceivedMessage[]): Set<string> {
    if (!this.options.reportBatchItemFailures) return new Set();
    const items = (response as { batchItemFailures?: unknown } | null | undefined)
      ?.batchItemFailures;
    if (items === undefined || items === null) return new Set();
    const ids = new Set(batch.map((message) => message.messageId));
    const all = new Set(ids);
    if (!Array.isArray(items)) return all;
    const failed = new Set<string>();
    for (const item of items) {
      const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !ids.has(id)) return all;
      failed.add(id);
    }
    return failed;
  }

  /** One record of the event, as Lambda builds it from a received message. */
  private record(message: ReceivedMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle,
      body: message.body,
      attributes: message.attributes as unknown as SQSRecord['attributes'],
      messageAttributes: Object.fromEntries(
        Object.entries(message.messageAttributes).map(([name, value]) => [
          name,
          {
            dataType: value.DataType,
            ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
            ...(value.BinaryValue !== undefined && { binaryValue: value.BinaryValue }),
            stringListValues: value.StringListValues ?? [],
            binaryListValues: value.BinaryListValues ?? [],
          },
        ]),
      ),
      md5OfBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes !== undefined && {
        md5OfMessageAttributes: message.md5OfMessageAttributes,
      }),
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: this.options.region,
    };
  }
}
