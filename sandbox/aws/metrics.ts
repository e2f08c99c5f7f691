/**
 * Calls per emulated service operation, as the sandbox served them: `ok`, `throttled` (the
 * service's throttling answer, from its rate limit or injected throttling) or `failed` (any
 * other error). GET /sandbox/metrics returns them; benchmarks read them to see how many calls a
 * workflow spent and how many SES refused.
 */
import type { AwsResponse, EmulatedService } from './service.js';

export type CallOutcome = 'ok' | 'throttled' | 'failed';
export type CallCounts = Record<CallOutcome, number>;

/** The error codes with which the emulated services throttle a caller. */
export const THROTTLING_ERROR_CODES = new Set([
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'RequestThrottled',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** The outcome of one served call. */
export function outcomeOf(response: AwsResponse): CallOutcome {
  if (response.status < 300) return 'ok';
  return response.errorCode !== undefined && THROTTLING_ERROR_CODES.has(response.errorCode)
    ? 'throttled'
    : 'failed';
}

/** Counts of every call, keyed `service:Operation` (`sesv2:CreateEmailIdentity`). */
export class CallMetrics {
  private readonly counts = new Map<string, CallCounts>();

  /** Lists every operation of these services, at zero until called. */
  constructor(services: readonly Pick<EmulatedService, 'serviceName' | 'operations'>[] = []) {
    for (const service of services) this.declare(service);
  }

  /** Adds a service's operations to the listing (a service registered later). */
  declare(service: Pick<EmulatedService, 'serviceName' | 'operations'>): void {
    for (const operation of service.operations)
      this.countsOf(`${service.serviceName}:${operation}`);
  }

  record(serviceName: string, operation: string, outcome: CallOutcome): void {
    this.countsOf(`${serviceName}:${operation}`)[outcome] += 1;
  }

  /** Every operation's counts, sorted by key. */
  snapshot(): Record<string, CallCounts> {
    return Object.fromEntries(
      [...this.counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, counts]) => [key, { ...counts }]),
    );
  }

  private countsOf(key: string): CallCounts {
    let counts = this.counts.get(key);
    if (!counts) {
      counts = { ok: 0, throttled: 0, failed: 0 };
      this.counts.set(key, counts);
    }
    return counts;
  }
}
