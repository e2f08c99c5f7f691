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
  /** Share of requests (0..1) answered with the service's throttling error. */
  throttleRate?: number;
  /** Seed for the generator that picks the failed requests. */
  seed?: number;
  /**
   * Requests per second allowed per operation, measured on the wall clock (a request rate is a
   * property of the caller's machine, not of modelled time). Unset: no limit.
   */
  rateLimit?: number;
  /** Wall clock in milliseconds, for the rate limit. */
  wallClock?: () => number;
}

/**
 * Decides, per request, whether an emulated service throttles it or fails it: a per-operation
 * rate limit (a one-second window per operation) and seeded random faults.
 */
export class FaultInjector {
  private readonly random: () => number;
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly wallClock: () => number;

  constructor(private readonly options: FaultOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.wallClock = options.wallClock ?? (() => performance.now());
  }

  /** `throttle`, `fault` or undefined (serve the request normally). */
  decide(operation: string): 'throttle' | 'fault' | undefined {
    const { rateLimit, faultRate = 0, throttleRate = 0 } = this.options;
    if (rateLimit !== undefined && rateLimit >= 0) {
      const now = this.wallClock();
      let window = this.windows.get(operation);
      if (!window || now - window.start >= 1000) {
        window = { start: now, count: 0 };
        this.windows.set(operation, window);
      }
      window.count += 1;
      if (window.count > rateLimit) return 'throttle';
    }
    if (throttleRate > 0 && this.random() < throttleRate) return 'throttle';
    if (faultRate > 0 && this.random() < faultRate) return 'fault';
    return undefined;
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
