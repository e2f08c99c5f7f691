import { randomUUID } from 'node:crypto';
import type { AwsResponse } from '#sandbox/aws/service.js';

/**
 * An error an emulated operation returns to its caller. Each service turns it into its own wire
 * format (REST-JSON header, JSON 1.1 `__type`, Route 53's XML), so the SDK raises its real
 * exception class.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Route 53 reports whose fault it was: `Sender` (4xx) or `Receiver` (5xx). */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = code;
  }
}

/** The account every emulated resource belongs to. */
export const ACCOUNT_ID = '000000000000';

/** The clock every emulator reads, so that the sandbox's virtual clock drives modelled time. */
export type Now = () => Date;

export const systemNow: Now = () => new Date();

/** A JSON 1.1 (`X-Amz-Target`) response, as EventBridge and Secrets Manager send them. */
export function awsJsonResponse(body: unknown, status = 200): AwsResponse {
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
    },
    body: JSON.stringify(body),
  };
}

/** A JSON 1.1 error: the SDK reads the class from `__type`. */
export function awsJsonError(error: AwsServiceError): AwsResponse {
  return {
    status: error.status,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': error.code,
    },
    body: JSON.stringify({ __type: error.code, Message: error.message }),
    errorCode: error.code,
  };
}

/** Parses a JSON request body; an unreadable one is the caller's fault, as AWS reports it. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Fall through to the same error as a non-object body.
  }
  throw new AwsServiceError('SerializationException', 'Request body is not a JSON object.');
}

/** Whole seconds since the epoch, as JSON protocols carry timestamps. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * A small seeded generator (mulberry32), so fault injection at a given rate fails the same
 * requests on every run.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultOptions {
  /** Share of requests (0..1) answered with a 5xx. */
  faultRate?: number;
  /**
   * Share (0..1) of those 5xx that strike after the operation took effect, as when the service
   * did the work and the reply was lost. Default 0.5.
   */
  faultAfterShare?: number;
  /** Share of requests (0..1) answered with the service's throttling error. */
  throttleRate?: number;
  /** Seed for the generator that picks the failed requests. */
  seed?: number;
  /**
   * Requests per second allowed, on the emulator's clock (the sandbox's virtual clock): a token
   * bucket refilled at this rate, per operation or for the whole account (`rateScope`). 0 or
   * unset: no limit.
   */
  rateLimit?: number;
  /** Requests the bucket holds when full (the burst). Default: the rate, at least 1. */
  burst?: number;
  /** One bucket per operation (SES's identity actions) or one for the account (Route 53). */
  rateScope?: 'operation' | 'account';
  /** Only these operations are throttled or failed at random (the rate limit applies to all). */
  operations?: readonly string[];
}

/** What happens to one request. */
export type FaultDecision = 'throttle' | 'fault-before' | 'fault-after' | undefined;

/**
 * Decides, per request, whether an emulated service throttles it or fails it: a rate limit (a
 * token bucket on the emulator's clock) and seeded random throttling and faults.
 */
export class FaultInjector {
  private readonly random: () => number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: FaultOptions = {},
    private readonly now: Now = systemNow,
  ) {
    this.random = seededRandom(options.seed ?? 1);
  }

  /** What to do with one request of `operation`. */
  decide(operation: string): FaultDecision {
    const { faultRate = 0, throttleRate = 0, faultAfterShare = 0.5 } = this.options;
    if (!this.takeToken(operation)) return 'throttle';
    if (this.options.operations && !this.options.operations.includes(operation)) return undefined;
    if (throttleRate > 0 && this.random() < throttleRate) return 'throttle';
    if (faultRate > 0 && this.random() < faultRate) {
      return this.random() < faultAfterShare ? 'fault-after' : 'fault-before';
    }
    return undefined;
  }

  private takeToken(operation: string): boolean {
    const rate = this.options.rateLimit ?? 0;
    if (rate <= 0) return true;
    const capacity = this.options.burst ?? Math.max(1, rate);
    const key = this.options.rateScope === 'account' ? '*' : operation;
    const now = this.now().getTime();
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Reads an optional number from the environment; a malformed value fails loudly. */
export function numberFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (
    !Number.isFinite(value) ||
    (range.min !== undefined && value < range.min) ||
    (range.max !== undefined && value > range.max)
  ) {
    throw new Error(`${name} must be a number in [${range.min ?? '-∞'}, ${range.max ?? '∞'}]`);
  }
  return value;
}

/** One operation of a REST protocol: `PUT /v2/email/identities/{EmailIdentity}/dkim`. */
export interface RestRoute {
  method: string;
  path: string;
  operation: string;
}

/** The route a request takes, with its URI parameters decoded, or undefined. */
export function matchRestRoute(
  routes: readonly RestRoute[],
  method: string,
  path: string,
): { operation: string; parameters: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const parts = route.path.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    const matches = parts.every((part, index) => {
      const segment = segments[index] as string;
      if (part.startsWith('{') && part.endsWith('}')) {
        try {
          parameters[part.slice(1, -1)] = decodeURIComponent(segment);
          return true;
        } catch {
          return false;
        }
      }
      return part === segment;
    });
    if (matches) return { operation: route.operation, parameters };
  }
  return undefined;
}
