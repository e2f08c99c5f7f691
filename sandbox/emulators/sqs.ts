/**
 * Amazon SQS as the SDK v3 and botocore speak it today: the JSON 1.0 protocol
 * (`X-Amz-Target: AmazonSQS.*`), with the `x-amzn-query-error` header that query-compatible
 * clients read their error codes from. Standard and FIFO queues, with what matters to the
 * workflow: FIFO order per message group and no message of a group handed out while another of
 * it is in flight, content-based deduplication within five minutes, visibility time-outs,
 * ApproximateReceiveCount and redrive to a dead-letter queue after maxReceiveCount. Time is the
 * emulator's clock (the sandbox's virtual clock); messages come back into view on its timers.
 *
 * Besides the wire protocol, the sandbox's Lambda event source mappings and EventBridge targets
 * use the same queues in-process (`receiveBatch`, `deleteMessage`, `sendMessage`), as AWS's own
 * pollers and targets do behind the API.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type AwsRequest,
  type AwsResponse,
  type EmulatedService,
  targetOperation,
} from '#sandbox/aws/service.js';
import { ACCOUNT_ID, AwsServiceError, type Now, parseJsonBody, systemNow } from './wire.js';

const MAX_MESSAGE_BYTES = 256 * 1024;
const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const PURGE_INTERVAL_MS = 60_000;
const MAX_VISIBILITY_SECONDS = 43_200;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
// The characters SQS accepts in a message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Each error's code in the JSON protocol (the shape's name) and in the query protocol. */
const QUERY_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

const QUEUE_ATTRIBUTES = [
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
] as const;
/** What CreateQueue and SetQueueAttributes accept; the rest SQS computes. */
const SETTABLE_ATTRIBUTES = new Set<string>([
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);
const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
  SqsManagedSseEnabled: 'true',
};
const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const;

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
  StringListValues?: string[];
  BinaryListValues?: string[];
}

interface StoredMessage {
  id: string;
  /** The emulator's send order across queues: FIFO receives merge their groups by it. */
  order: number;
  body: string;
  md5OfBody: string;
  attributes: Record<string, MessageAttributeValue>;
  md5OfAttributes: string | undefined;
  groupId: string | undefined;
  deduplicationId: string | undefined;
  sequenceNumber: string | undefined;
  sentAt: number;
  firstReceivedAt: number | undefined;
  receiveCount: number;
  /** Not before this (a delay, or the end of a visibility time-out). */
  visibleAt: number;
  /** The handle of its latest receipt while in flight; only that one deletes it. */
  receiptHandle: string | undefined;
  deadLetterSourceArn: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A message as a receiver gets it, with every system attribute. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes: string | undefined;
  messageAttributes: Record<string, MessageAttributeValue>;
  attributes: Record<string, string>;
}

export interface SendInput {
  MessageBody?: unknown;
  DelaySeconds?: unknown;
  MessageAttributes?: unknown;
  MessageGroupId?: unknown;
  MessageDeduplicationId?: unknown;
}

interface SendResult {
  MessageId: string;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
  SequenceNumber?: string;
}

class Queue {
  /** Every message, in the order sent (a Set: removing one from the middle costs no scan). */
  readonly messages = new Set<StoredMessage>();
  /** FIFO: each message group's messages, in order, so a receive looks only at groups' heads. */
  readonly groups = new Map<string, Set<StoredMessage>>();
  /** By deduplication ID, in the order sent: the oldest entries expire first. */
  readonly deduplication = new Map<string, { result: SendResult; until: number }>();
  readonly waiters = new Set<() => void>();
  lastPurge = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    readonly attributes: Record<string, string>,
    readonly createdAt: number,
    public modifiedAt: number,
  ) {}

  get fifo(): boolean {
    return this.attributes.FifoQueue === 'true';
  }

  number(attribute: string): number {
    return Number(this.attributes[attribute] ?? DEFAULT_ATTRIBUTES[attribute] ?? 0);
  }

  redrive(): { deadLetterTargetArn: string; maxReceiveCount: number } | undefined {
    const policy = this.attributes.RedrivePolicy;
    return policy ? (JSON.parse(policy) as ReturnType<Queue['redrive']>) : undefined;
  }

  /** Wakes whoever waits for a message of this queue (pollers, long polls). */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface SqsEmulatorOptions {
  now?: Now;
  region?: string;
  /** The endpoint queue URLs point at (the sandbox's one AWS endpoint). */
  baseUrl?: string;
}

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/**
 * MD5 of a message's attributes as SQS computes it (and the SDKs check it): for each attribute,
 * by name, the name, the data type, a transport byte (1 string, 2 binary) and the value, each
 * length-prefixed (4 bytes, big-endian).
 */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const field = (value: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(value.length);
    parts.push(length, value);
  };
  for (const name of names) {
    const value = attributes[name] as MessageAttributeValue;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

/** An error in SQS's JSON wire format, with its query-protocol code in a header. */
function sqsError(error: AwsServiceError): AwsResponse {
  const fault = error.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: error.status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-query-error': `${QUERY_CODES[error.code] ?? error.code};${fault}`,
    },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message }),
    errorCode: error.code,
  };
}

const invalid = (message: string) => new AwsServiceError('InvalidParameterValue', message);
const missing = (name: string) =>
  new AwsServiceError('MissingParameter', `The request must contain the parameter ${name}.`);
const noSuchQueue = () =>
  new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');

function integerIn(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw invalid(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    );
  }
  return number;
}

/**
 * The SQS emulator. Queues live in memory for the life of the sandbox; every time is the
 * emulator's clock.
 */
export class SqsEmulator implements EmulatedService {
  readonly signingName = 'sqs';
  readonly serviceName = 'sqs';
  readonly operations = [
    'CreateQueue',
    'GetQueueUrl',
    'GetQueueAttributes',
    'ListQueues',
    'SendMessage',
    'SendMessageBatch',
    'ReceiveMessage',
    'DeleteMessage',
    'ChangeMessageVisibility',
    'PurgeQueue',
  ] as const;
  readonly operationOf = targetOperation;
  private readonly queues = new Map<string, Queue>();
  private readonly handles = new Map<string, { queue: Queue; message: StoredMessage }>();
  private readonly now: () => number;
  private readonly region: string;
  private baseUrl: string;
  private sequence = 0n;

  constructor(options: SqsEmulatorOptions = {}) {
    const now = options.now ?? systemNow;
    this.now = () => now().getTime();
    this.region = options.region ?? 'us-east-1';
    this.baseUrl = options.baseUrl ?? 'http://localhost';
  }

  /** Where queue URLs point, once the endpoint's address is known. */
  setBaseUrl(baseUrl: string): void {
    this.baseUrl = baseUrl;
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    try {
      const target = request.headers['x-amz-target'] ?? '';
      const operation = target.startsWith('AmazonSQS.') ? target.slice(10) : '';
      const body = parseJsonBody(request.body);
      const result = await this.dispatch(operation, body, request.idle);
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
        body: JSON.stringify(result),
      };
    } catch (error) {
      if (error instanceof AwsServiceError) return sqsError(error);
      throw error;
    }
  }

  private async dispatch(
    operation: string,
    body: Record<string, unknown>,
    idle: AwsRequest['idle'],
  ): Promise<unknown> {
    switch (operation) {
      case 'CreateQueue':
        return {
          QueueUrl: this.createQueue(
            String(body.QueueName ?? ''),
            (body.Attributes ?? {}) as Record<string, string>,
          ).url,
        };
      case 'GetQueueUrl': {
        if (typeof body.QueueName !== 'string') throw missing('QueueName');
        const queue = this.queues.get(body.QueueName);
        if (!queue) throw noSuchQueue();
        return { QueueUrl: queue.url };
      }
      case 'GetQueueAttributes':
        return { Attributes: this.attributesOf(this.queueAt(body.QueueUrl), body.AttributeNames) };
      case 'ListQueues':
        return this.listQueues(body);
      case 'SendMessage':
        return this.sendMessage(String(body.QueueUrl ?? ''), body);
      case 'SendMessageBatch':
        return this.sendMessageBatch(body);
      case 'ReceiveMessage':
        return this.receiveMessage(body, idle);
      case 'DeleteMessage':
        this.deleteMessage(String(body.QueueUrl ?? ''), body.ReceiptHandle);
        return {};
      case 'ChangeMessageVisibility':
        this.changeVisibility(body);
        return {};
      case 'PurgeQueue':
        this.purge(this.queueAt(body.QueueUrl));
        return {};
      default:
        throw new AwsServiceError(
          'UnsupportedOperation',
          `The sandbox SQS does not implement ${operation || 'this operation'}.`,
        );
    }
  }

  /** CreateQueue: idempotent for the same attributes, as SQS is. */
  createQueue(name: string, requested: Record<string, string>): Queue {
    if (name === '') throw missing('QueueName');
    const fifo = requested.FifoQueue === 'true';
    const base = fifo ? name.replace(/\.fifo$/, '') : name;
    if (
      !QUEUE_NAME.test(base) ||
      (fifo && !name.endsWith('.fifo')) ||
      (!fifo && name.endsWith('.fifo'))
    ) {
      throw invalid(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. A FIFO queue name must end with the .fifo suffix.',
      );
    }
    const attributes: Record<string, string> = { ...DEFAULT_ATTRIBUTES };
    for (const [key, value] of Object.entries(requested)) {
      if (!SETTABLE_ATTRIBUTES.has(key)) {
        throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${key}.`);
      }
      attributes[key] = String(value);
    }
    if (!fifo) {
      delete attributes.FifoQueue;
      if (attributes.ContentBasedDeduplication !== undefined) {
        throw new AwsServiceError(
          'InvalidAttributeName',
          'Unknown Attribute ContentBasedDeduplication.',
        );
      }
    } else {
      attributes.ContentBasedDeduplication ??= 'false';
      attributes.DeduplicationScope ??= 'queue';
      attributes.FifoThroughputLimit ??= 'perQueue';
    }
    integerIn(attributes.VisibilityTimeout, 'VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS);
    integerIn(attributes.MessageRetentionPeriod, 'MessageRetentionPeriod', 60, 1_209_600);
    integerIn(attributes.DelaySeconds, 'DelaySeconds', 0, 900);
    if (attributes.RedrivePolicy !== undefined) this.checkRedrive(attributes.RedrivePolicy, fifo);

    const existing = this.queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(requested)) {
        if (existing.attributes[key] !== String(value)) {
          throw new AwsServiceError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return existing;
    }
    const now = this.now();
    const queue = new Queue(
      name,
      `${this.baseUrl}/${ACCOUNT_ID}/${name}`,
      `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`,
      attributes,
      now,
      now,
    );
    this.queues.set(name, queue);
    return queue;
  }

  private checkRedrive(text: string, fifo: boolean): void {
    let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      policy = JSON.parse(text) as typeof policy;
    } catch {
      throw new AwsServiceError(
        'InvalidAttributeValue',
        'Invalid value for the parameter RedrivePolicy.',
      );
    }
    const target = this.queueByArn(String(policy.deadLetterTargetArn ?? ''));
    const receives = Number(policy.maxReceiveCount);
    if (
      !target ||
      target.fifo !== fifo ||
      !Number.isInteger(receives) ||
      receives < 1 ||
      receives > 1000
    ) {
      throw new AwsServiceError(
        'InvalidAttributeValue',
        'Value for parameter RedrivePolicy is invalid. Reason: the dead-letter target must be an existing queue of the same type, and maxReceiveCount 1 to 1000.',
      );
    }
  }

  queueByArn(arn: string): Queue | undefined {
    return [...this.queues.values()].find((queue) => queue.arn === arn);
  }

  queueByUrl(url: string): Queue | undefined {
    const name = url.split('/').at(-1) ?? '';
    const queue = this.queues.get(name);
    return queue && url.endsWith(`/${ACCOUNT_ID}/${name}`) ? queue : undefined;
  }

  private queueAt(url: unknown): Queue {
    if (typeof url !== 'string' || url === '') throw missing('QueueUrl');
    const queue = this.queueByUrl(url);
    if (!queue) throw noSuchQueue();
    return queue;
  }

  private attributesOf(queue: Queue, names: unknown): Record<string, string> {
    const wanted = Array.isArray(names) ? (names as string[]) : [];
    for (const name of wanted) {
      if (name !== 'All' && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name)) {
        throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    const all = wanted.includes('All');
    const now = this.now();
    this.expire(queue, now);
    const live = [...queue.messages];
    const computed: Record<string, string> = {
      ...queue.attributes,
      QueueArn: queue.arn,
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
      ApproximateNumberOfMessages: String(live.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(
        live.filter((m) => m.visibleAt > now && m.receiptHandle !== undefined).length,
      ),
      ApproximateNumberOfMessagesDelayed: String(
        live.filter((m) => m.visibleAt > now && m.receiptHandle === undefined).length,
      ),
    };
    return Object.fromEntries(
      Object.entries(computed).filter(([name]) => all || wanted.includes(name)),
    );
  }

  private listQueues(body: Record<string, unknown>) {
    const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
    const max = integerIn(body.MaxResults, 'MaxResults', 1, 1000);
    const urls = [...this.queues.values()]
      .filter((queue) => queue.name.startsWith(prefix))
      .map((queue) => queue.url)
      .sort();
    if (max === undefined) return { QueueUrls: urls.slice(0, 1000) };
    let start = 0;
    if (typeof body.NextToken === 'string') {
      start = Number(Buffer.from(body.NextToken, 'base64url').toString());
      if (!Number.isInteger(start) || start < 0) throw invalid('Invalid NextToken value.');
    }
    const page = urls.slice(start, start + max);
    const next =
      start + max < urls.length
        ? Buffer.from(String(start + max)).toString('base64url')
        : undefined;
    return { QueueUrls: page, ...(next && { NextToken: next }) };
  }

  /** SendMessage, also as EventBridge targets and the state machine's integration use it. */
  sendMessage(url: string, input: SendInput): SendResult {
    const queue = this.queueAt(url);
    return this.enqueue(queue, input, this.now());
  }

  private enqueue(
    queue: Queue,
    input: SendInput,
    now: number,
    deadLetterSourceArn?: string,
  ): SendResult {
    if (typeof input.MessageBody !== 'string' || input.MessageBody.length === 0) {
      throw missing('MessageBody');
    }
    const body = input.MessageBody;
    const attributes = (input.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>;
    for (const [name, value] of Object.entries(attributes)) {
      if (typeof value?.DataType !== 'string' || value.DataType === '') {
        throw invalid(`The message attribute '${name}' must contain a non-empty attribute type.`);
      }
    }
    const size =
      Buffer.byteLength(body) +
      Object.entries(attributes).reduce(
        (sum, [name, value]) =>
          sum +
          Buffer.byteLength(name) +
          Buffer.byteLength(value.DataType ?? '') +
          Buffer.byteLength(value.StringValue ?? '') +
          Buffer.from(value.BinaryValue ?? '', 'base64').length,
        0,
      );
    if (size > queue.number('MaximumMessageSize')) {
      throw invalid(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.number('MaximumMessageSize')} bytes.`,
      );
    }
    if (INVALID_CHARACTER.test(body)) {
      throw new AwsServiceError(
        'InvalidMessageContents',
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    const groupId = typeof input.MessageGroupId === 'string' ? input.MessageGroupId : undefined;
    let deduplicationId =
      typeof input.MessageDeduplicationId === 'string' ? input.MessageDeduplicationId : undefined;
    const delay = integerIn(input.DelaySeconds, 'DelaySeconds', 0, 900);
    if (queue.fifo) {
      if (groupId === undefined) throw missing('MessageGroupId');
      if (delay !== undefined && delay !== 0) {
        throw invalid(
          'Value 0 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        );
      }
      if (deduplicationId === undefined) {
        if (queue.attributes.ContentBasedDeduplication !== 'true') {
          throw invalid(
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        deduplicationId = createHash('sha256').update(body).digest('hex');
      }
      // Entries are kept in the order sent, each for the same window: the expired ones come first.
      for (const [id, entry] of queue.deduplication) {
        if (entry.until > now) break;
        queue.deduplication.delete(id);
      }
      const duplicate = queue.deduplication.get(deduplicationId);
      // Within five minutes, the same deduplication ID is accepted and not delivered again.
      if (duplicate && duplicate.until > now) return duplicate.result;
      queue.deduplication.delete(deduplicationId);
    }
    this.sequence += 1n;
    const message: StoredMessage = {
      id: randomUUID(),
      order: Number(this.sequence),
      body,
      md5OfBody: md5(body),
      attributes,
      md5OfAttributes: md5OfMessageAttributes(attributes),
      groupId: queue.fifo ? groupId : undefined,
      deduplicationId: queue.fifo ? deduplicationId : undefined,
      sequenceNumber: queue.fifo ? String(18_000_000_000_000_000_000n + this.sequence) : undefined,
      sentAt: now,
      firstReceivedAt: undefined,
      receiveCount: 0,
      visibleAt: now + 1000 * (delay ?? queue.number('DelaySeconds')),
      receiptHandle: undefined,
      deadLetterSourceArn,
      timer: undefined,
    };
    queue.messages.add(message);
    if (message.groupId !== undefined) {
      let group = queue.groups.get(message.groupId);
      if (!group) {
        group = new Set();
        queue.groups.set(message.groupId, group);
      }
      group.add(message);
    }
    const result: SendResult = {
      MessageId: message.id,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfAttributes && { MD5OfMessageAttributes: message.md5OfAttributes }),
      ...(message.sequenceNumber && { SequenceNumber: message.sequenceNumber }),
    };
    if (queue.fifo && deduplicationId !== undefined) {
      queue.deduplication.set(deduplicationId, { result, until: now + DEDUPLICATION_WINDOW_MS });
    }
    if (message.visibleAt > now) this.wakeAt(queue, message, message.visibleAt);
    else queue.notify();
    return result;
  }

  private sendMessageBatch(body: Record<string, unknown>) {
    const queue = this.queueAt(body.QueueUrl);
    const entries = Array.isArray(body.Entries) ? (body.Entries as Record<string, unknown>[]) : [];
    if (entries.length === 0) {
      throw new AwsServiceError(
        'EmptyBatchRequest',
        'There should be at least one SendMessageBatchRequestEntry in the request.',
      );
    }
    if (entries.length > 10) {
      throw new AwsServiceError(
        'TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      );
    }
    const ids = entries.map((entry) => String(entry.Id ?? ''));
    const badId = ids.find((id) => !BATCH_ENTRY_ID.test(id));
    if (badId !== undefined) {
      throw new AwsServiceError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (new Set(ids).size !== ids.length) {
      throw new AwsServiceError(
        'BatchEntryIdsNotDistinct',
        'Two or more batch entries in the request have the same Id.',
      );
    }
    const total = entries.reduce(
      (sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? '')),
      0,
    );
    if (total > MAX_MESSAGE_BYTES) {
      throw new AwsServiceError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    const now = this.now();
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...this.enqueue(queue, entry, now) });
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        Failed.push({
          Id: entry.Id,
          SenderFault: error.status < 500,
          Code: error.code,
          Message: error.message,
        });
      }
    }
    return { Successful, Failed };
  }

  private async receiveMessage(body: Record<string, unknown>, idle: AwsRequest['idle']) {
    const queue = this.queueAt(body.QueueUrl);
    const max = integerIn(body.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility = integerIn(
      body.VisibilityTimeout,
      'VisibilityTimeout',
      0,
      MAX_VISIBILITY_SECONDS,
    );
    const waitSeconds =
      integerIn(body.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20) ??
      queue.number('ReceiveMessageWaitTimeSeconds');
    const names = [
      ...((body.AttributeNames as string[] | undefined) ?? []),
      ...((body.MessageSystemAttributeNames as string[] | undefined) ?? []),
    ];
    let received = this.receiveBatch(queue.url, max, visibility);
    if (received.length === 0 && waitSeconds > 0) {
      // A long poll: wait for a message or the end of the wait, whichever comes first. The wait
      // is idle time, not work, so the sandbox's clock may move on meanwhile.
      const wait = this.whenAvailable(queue.url, waitSeconds * 1000);
      await (idle ? idle(wait) : wait);
      received = this.receiveBatch(queue.url, max, visibility);
    }
    return {
      Messages: received.map((message) => ({
        MessageId: message.messageId,
        ReceiptHandle: message.receiptHandle,
        MD5OfBody: message.md5OfBody,
        Body: message.body,
        ...(names.length > 0 && { Attributes: filterAttributes(message.attributes, names) }),
        ...messageAttributesWanted(message, body.MessageAttributeNames),
      })),
    };
  }

  /**
   * Receives up to `max` messages the way ReceiveMessage does, each with every system
   * attribute: the sandbox's event source mappings poll with this. FIFO: in order per group, and
   * never from a group with a message in flight. A message received maxReceiveCount times moves
   * to the dead-letter queue instead.
   */
  receiveBatch(url: string, max: number, visibilityTimeoutSeconds?: number): ReceivedMessage[] {
    const queue = this.queueAt(url);
    const now = this.now();
    this.expire(queue, now);
    const visibility = visibilityTimeoutSeconds ?? queue.number('VisibilityTimeout');
    const redrive = queue.redrive();
    const taken: ReceivedMessage[] = [];
    for (const message of this.receivable(queue, max, now)) {
      if (taken.length >= max) break;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, redrive.deadLetterTargetArn, now);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      if (message.receiptHandle !== undefined) this.handles.delete(message.receiptHandle);
      message.receiptHandle = Buffer.from(`${queue.name}:${message.id}:${randomUUID()}`).toString(
        'base64',
      );
      this.handles.set(message.receiptHandle, { queue, message });
      message.visibleAt = now + visibility * 1000;
      this.wakeAt(queue, message, message.visibleAt);
      taken.push(this.received(queue, message));
    }
    return taken;
  }

  /**
   * The messages a receive may hand out now, in the order sent, each either received or sent to
   * the dead-letter queue by the caller: visible ones of a standard queue; of a FIFO queue, each
   * group's visible messages from its oldest on, up to the first that is not visible, and none of
   * a group with a message in flight. Only messages received before can be in flight, and a group
   * hands out its messages in order, so those are the group's first ones: a group is looked at up
   * to its first message never received and its first `max` visible ones, whatever its length.
   */
  private receivable(queue: Queue, max: number, now: number): StoredMessage[] {
    const redrive = queue.redrive();
    // Messages the receive sends to the dead-letter queue do not fill the batch.
    const counts = (message: StoredMessage) =>
      redrive === undefined || message.receiveCount < redrive.maxReceiveCount;
    if (!queue.fifo) {
      const visible: StoredMessage[] = [];
      let filling = 0;
      for (const message of queue.messages) {
        if (message.visibleAt > now) continue;
        visible.push(message);
        if (counts(message)) filling += 1;
        if (filling >= max) break;
      }
      return visible;
    }
    const candidates: StoredMessage[] = [];
    for (const group of queue.groups.values()) {
      let inFlight = false;
      for (const message of group) {
        if (message.receiptHandle === undefined) break;
        if (message.visibleAt > now) {
          inFlight = true;
          break;
        }
      }
      if (inFlight) continue;
      let filling = 0;
      for (const message of group) {
        // A FIFO group waits for its oldest message: none behind it may go first.
        if (message.visibleAt > now) break;
        candidates.push(message);
        if (counts(message)) filling += 1;
        if (filling >= max) break;
      }
    }
    return candidates.sort((a, b) => a.order - b.order);
  }

  private received(queue: Queue, message: StoredMessage): ReceivedMessage {
    const attributes: Record<string, string> = {
      SenderId: ACCOUNT_ID,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
    };
    if (queue.fifo) {
      attributes.SequenceNumber = message.sequenceNumber as string;
      attributes.MessageDeduplicationId = message.deduplicationId as string;
      attributes.MessageGroupId = message.groupId as string;
    }
    if (message.deadLetterSourceArn)
      attributes.DeadLetterQueueSourceArn = message.deadLetterSourceArn;
    return {
      messageId: message.id,
      receiptHandle: message.receiptHandle as string,
      body: message.body,
      md5OfBody: message.md5OfBody,
      md5OfMessageAttributes: message.md5OfAttributes,
      messageAttributes: message.attributes,
      attributes,
    };
  }

  private moveToDeadLetterQueue(
    queue: Queue,
    message: StoredMessage,
    arn: string,
    now: number,
  ): void {
    this.remove(queue, message);
    const target = this.queueByArn(arn);
    if (!target) return;
    this.enqueue(
      target,
      {
        MessageBody: message.body,
        MessageAttributes: message.attributes,
        MessageGroupId: message.groupId,
        // A new deduplication ID: the dead-letter queue's window must not swallow it.
        MessageDeduplicationId: target.fifo ? `${message.id}-dlq` : undefined,
      },
      now,
      queue.arn,
    );
  }

  /** DeleteMessage. A receipt handle that is no longer the latest succeeds and deletes nothing. */
  deleteMessage(url: string, receiptHandle: unknown): void {
    const queue = this.queueAt(url);
    if (typeof receiptHandle !== 'string' || receiptHandle === '') throw missing('ReceiptHandle');
    const held = this.handles.get(receiptHandle);
    if (!held) {
      if (!this.isHandle(receiptHandle)) {
        throw new AwsServiceError(
          'ReceiptHandleIsInvalid',
          `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
        );
      }
      return;
    }
    if (held.queue !== queue) {
      throw new AwsServiceError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    }
    this.remove(queue, held.message);
    // A FIFO group this message held back may go on.
    queue.notify();
  }

  /** Receipt handles this emulator could have issued (and then forgotten). */
  private isHandle(receiptHandle: string): boolean {
    const decoded = Buffer.from(receiptHandle, 'base64').toString();
    return /^[^:]+:[0-9a-f-]{36}:[0-9a-f-]{36}$/.test(decoded);
  }

  private changeVisibility(body: Record<string, unknown>): void {
    this.changeMessageVisibility(body.QueueUrl, body.ReceiptHandle, body.VisibilityTimeout);
  }

  /**
   * ChangeMessageVisibility: the message in flight under `receiptHandle` comes back into view
   * `visibilityTimeout` seconds from now (0: at once, freeing its FIFO group).
   */
  changeMessageVisibility(url: unknown, receiptHandle: unknown, visibilityTimeout: unknown): void {
    const queue = this.queueAt(url);
    if (typeof receiptHandle !== 'string') throw missing('ReceiptHandle');
    const seconds = integerIn(visibilityTimeout, 'VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS);
    if (seconds === undefined) throw missing('VisibilityTimeout');
    const held = this.handles.get(receiptHandle);
    if (!held) {
      if (!this.isHandle(receiptHandle)) {
        throw new AwsServiceError(
          'ReceiptHandleIsInvalid',
          `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
        );
      }
      throw new AwsServiceError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    const now = this.now();
    if (held.queue !== queue || held.message.visibleAt <= now) {
      throw new AwsServiceError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    held.message.visibleAt = now + seconds * 1000;
    this.wakeAt(queue, held.message, held.message.visibleAt);
    if (seconds === 0) queue.notify();
  }

  private purge(queue: Queue): void {
    const now = this.now();
    if (now - queue.lastPurge < PURGE_INTERVAL_MS) {
      throw new AwsServiceError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
      );
    }
    queue.lastPurge = now;
    for (const message of [...queue.messages]) this.remove(queue, message);
  }

  private remove(queue: Queue, message: StoredMessage): void {
    queue.messages.delete(message);
    if (message.groupId !== undefined) {
      const group = queue.groups.get(message.groupId);
      group?.delete(message);
      if (group?.size === 0) queue.groups.delete(message.groupId);
    }
    if (message.receiptHandle !== undefined) this.handles.delete(message.receiptHandle);
    if (message.timer !== undefined) clearTimeout(message.timer);
    message.timer = undefined;
  }

  /** Drops messages older than the queue's retention period. */
  private expire(queue: Queue, now: number): void {
    const retentionMs = queue.number('MessageRetentionPeriod') * 1000;
    // Messages are kept in the order sent: the expired ones come first.
    for (const message of queue.messages) {
      if (message.sentAt + retentionMs > now) break;
      this.remove(queue, message);
    }
  }

  /** Wakes the queue's waiters when a message comes (back) into view, on the emulator's clock. */
  private wakeAt(queue: Queue, message: StoredMessage, at: number): void {
    if (message.timer !== undefined) clearTimeout(message.timer);
    message.timer = setTimeout(
      () => {
        message.timer = undefined;
        queue.notify();
      },
      Math.max(0, at - this.now()),
    );
    message.timer.unref?.();
  }

  /**
   * Resolves when a message may be available in the queue (one was sent, or one came back into
   * view), or after `timeoutMs`. Receivers then try again: it may have gone to another.
   */
  whenAvailable(url: string, timeoutMs?: number): Promise<void> {
    const queue = this.queueAt(url);
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        queue.waiters.delete(wake);
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      queue.waiters.add(wake);
      if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs);
    });
  }

  /** Wakes whoever waits on a queue (a poller that is being stopped). */
  wakeWaiters(url: string): void {
    this.queueByUrl(url)?.notify();
  }

  /** Messages in a queue, visible or not (tests, progress). */
  depth(url: string): number {
    return this.queueAt(url).messages.size;
  }

  /** Stops every timer (the sandbox is shutting down). */
  close(): void {
    for (const queue of this.queues.values()) {
      for (const message of queue.messages) {
        if (message.timer !== undefined) clearTimeout(message.timer);
        message.timer = undefined;
      }
      queue.notify();
    }
  }
}

function filterAttributes(
  attributes: Record<string, string>,
  names: string[],
): Record<string, string> {
  if (names.includes('All')) return attributes;
  return Object.fromEntries(
    Object.entries(attributes).filter(
      ([name]) => (SYSTEM_ATTRIBUTES as readonly string[]).includes(name) && names.includes(name),
    ),
  );
}

function messageAttributesWanted(
  message: ReceivedMessage,
  names: unknown,
): Record<string, unknown> {
  const wanted = Array.isArray(names) ? (names as string[]) : [];
  const entries = Object.entries(message.messageAttributes).filter(([name]) =>
    wanted.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    ),
  );
  if (entries.length === 0) return {};
  const selected = Object.fromEntries(entries);
  return { MessageAttributes: selected, MD5OfMessageAttributes: md5OfMessageAttributes(selected) };
}
