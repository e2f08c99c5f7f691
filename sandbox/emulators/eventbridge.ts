import { randomUUID } from 'node:crypto';
import {
  type AwsRequest,
  type AwsResponse,
  type EmulatedService,
  targetOperation,
} from '#sandbox/aws/service.js';
import { matchesPattern } from './event-pattern.js';
import {
  AwsServiceError,
  awsJsonError,
  awsJsonResponse,
  FaultInjector,
  type FaultOptions,
  type Now,
  parseJsonBody,
  systemNow,
} from './wire.js';

/** An event as EventBridge delivers it to a target. */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Not part of EventBridge's envelope: the bus the event was put on. */
  eventBusName: string;
}

/** A rule: events on its bus that match go to `target`. */
export interface EventRule {
  name: string;
  /** An EventBridge event pattern, matched against the event as delivered. */
  pattern?: Record<string, unknown>;
  source?: string[];
  detailType?: string[];
  eventBusName?: string;
  target: (event: DeliveredEvent) => void | Promise<void>;
}

export interface EventBridgeEmulatorOptions {
  now?: Now;
  region?: string;
  account?: string;
  /** Share of entries (0..1) failed with `InternalFailure`, seeded. */
  faults?: Pick<FaultOptions, 'faultRate' | 'throttleRate' | 'seed'>;
  /** Called when a rule's target throws; by default the error is ignored, as a failed target is. */
  onTargetError?: (error: unknown, rule: EventRule, event: DeliveredEvent) => void;
}

const MAX_ENTRY_BYTES = 256 * 1024;

const eventTime = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

interface EntryError {
  ErrorCode: string;
  ErrorMessage: string;
}

function entryError(entry: Record<string, unknown>): EntryError | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || (entry[field] as string).length === 0) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if ((entry.Source as string).startsWith('aws.')) {
    return {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: 'Not authorized for the source.',
    };
  }
  if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES) {
    return {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Total size of the entries in the request is over the limit.',
    };
  }
  return undefined;
}

const busNameOf = (value: unknown) => {
  const name = typeof value === 'string' && value.length > 0 ? value : 'default';
  // A bus may be named by ARN: `arn:aws:events:region:account:event-bus/name`.
  return name.includes(':event-bus/') ? (name.split(':event-bus/')[1] as string) : name;
};

/** The event exactly as EventBridge delivers it to a target (without the emulator's bus name). */
export function envelopeOf(event: DeliveredEvent): Omit<DeliveredEvent, 'eventBusName'> {
  const { eventBusName: _bus, ...envelope } = event;
  return envelope;
}

/**
 * Amazon EventBridge PutEvents (JSON 1.1): validates entries as EventBridge does (per-entry
 * ErrorCode, FailedEntryCount), keeps every delivered event readable, notifies listeners as events
 * arrive, and sends what matches a rule's pattern to its target (the sandbox adds template.yaml's
 * rules).
 */
export class EventBridgeEmulator implements EmulatedService {
  readonly signingName = 'events';
  readonly serviceName = 'events';
  readonly operations = ['PutEvents'] as const;
  readonly operationOf = targetOperation;
  private readonly delivered: DeliveredEvent[] = [];
  private readonly listeners = new Set<(event: DeliveredEvent) => void>();
  private readonly rules: EventRule[] = [];
  private readonly faults: FaultInjector;
  private readonly now: Now;
  private readonly region: string;
  private readonly account: string;

  constructor(private readonly options: EventBridgeEmulatorOptions = {}) {
    this.now = options.now ?? systemNow;
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.faults = new FaultInjector(options.faults, this.now);
  }

  /** Every event delivered so far, oldest first. */
  events(): DeliveredEvent[] {
    return [...this.delivered];
  }

  /** Calls `listener` for each event as it is delivered; returns a function that unsubscribes. */
  onEvent(listener: (event: DeliveredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends matching events to `rule.target` (asynchronously, as EventBridge does). */
  addRule(rule: EventRule): () => void {
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    try {
      const target = request.headers['x-amz-target'];
      if (target !== 'AWSEvents.PutEvents') {
        throw new AwsServiceError(
          'UnknownOperationException',
          `The sandbox EventBridge does not implement ${target}`,
        );
      }
      return awsJsonResponse(this.putEvents(parseJsonBody(request.body)));
    } catch (error) {
      if (error instanceof AwsServiceError) return awsJsonError(error);
      throw error;
    }
  }

  private putEvents(body: Record<string, unknown>) {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`,
      );
    }
    const results = entries.map((raw) => {
      const entry = (raw ?? {}) as Record<string, unknown>;
      const error = entryError(entry);
      if (error) return error;
      const decision = this.faults.decide('PutEvents');
      if (decision === 'throttle')
        return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
      if (decision === 'fault-before' || decision === 'fault-after')
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' };
      const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : this.now();
      const event: DeliveredEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: this.account,
        time: eventTime(time),
        region: this.region,
        resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
        detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
        eventBusName: busNameOf(entry.EventBusName),
      };
      this.deliver(event);
      return { EventId: event.id };
    });
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }

  private deliver(event: DeliveredEvent): void {
    this.delivered.push(event);
    for (const listener of this.listeners) listener(event);
    for (const rule of this.rules) {
      if (rule.eventBusName && rule.eventBusName !== event.eventBusName) continue;
      if (rule.source && !rule.source.includes(event.source)) continue;
      if (rule.detailType && !rule.detailType.includes(event['detail-type'])) continue;
      if (rule.pattern && !matchesPattern(rule.pattern, envelopeOf(event))) continue;
      // After the PutEvents response, like a real target invocation.
      setImmediate(() => {
        Promise.resolve()
          .then(() => rule.target(event))
          .catch((error: unknown) => this.options.onTargetError?.(error, rule, event));
      });
    }
  }
}
