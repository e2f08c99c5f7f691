/**
 * The HTTP API's client: one request, signed when the target wants it, and its answer turned
 * into data or into an error that says what went wrong (the envelope's code, message and field
 * problems; a 429's Retry-After; API Gateway's own message; a host that cannot be reached).
 */
import { ApiError, type FieldProblem, UnreachableError } from './errors.js';
import type { RequestSigner } from './sigv4.js';

/** Where the requests go. */
export interface Target {
  kind: 'sandbox' | 'api-url' | 'stack';
  /** The API's base URL (a custom domain may carry a base path). */
  baseUrl: URL;
  /** How the target was named, for messages. */
  label: string;
  /** Signs each request; absent for the sandbox and for --unsigned. */
  signer?: RequestSigner;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path under the base URL, each segment already percent-encoded. */
  path: string;
  query?: Record<string, string | undefined>;
  /** The JSON body, serialised once, so the signature covers exactly the bytes sent. */
  body?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
}

/** `/identities/{identity}` and below: the identity as one path segment. */
export function identityPath(identity: string, suffix = ''): string {
  return `/identities/${encodeURIComponent(identity)}${suffix}`;
}

/** At most `limit` characters of an answer that is not ours, on one line. */
function excerpt(text: string, limit = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}

/** Seconds from a Retry-After header: a number of seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

interface Envelope {
  success?: unknown;
  data?: unknown;
  error?: { code?: unknown; message?: unknown; details?: unknown };
  message?: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Why a connection failed, in words, from undici's `fetch failed` and its cause. */
function unreachable(target: Target, url: URL, error: unknown): UnreachableError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  const where = `${url.origin}`;
  const hint =
    target.kind === 'sandbox'
      ? ' Is the sandbox running? Start it with `npm run sandbox` (SANDBOX_API_PORT moves its port), or name a deployed stack with --api-url or --stack.'
      : '';
  const what =
    code === 'ECONNREFUSED'
      ? `connection refused by ${where}`
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `cannot resolve the host of ${where} (${code})`
        : code === 'ECONNRESET'
          ? `${where} closed the connection (ECONNRESET)`
          : `cannot reach ${where}: ${code ?? cause?.message ?? (error as Error).message}`;
  return new UnreachableError(`${what}.${hint}`);
}

export class ApiClient {
  constructor(
    readonly target: Target,
    private readonly options: { timeoutMs: number; signal: AbortSignal },
  ) {}

  /** The full URL of `path` with `query` (undefined values left out). */
  url(path: string, query: Record<string, string | undefined> = {}): URL {
    const base = this.target.baseUrl;
    const url = new URL(base.href);
    url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.append(key, value);
    }
    return url;
  }

  /** Sends a request of the API and returns its envelope's `data`; throws ApiError otherwise. */
  async send<T>(request: ApiRequest): Promise<ApiResponse<T>> {
    const { status, json, text, response } = await this.exchange(request);
    const envelope = json as Envelope | undefined;
    if (response.ok && envelope?.success === true) return { status, data: envelope.data as T };
    throw this.errorOf(response, envelope, text);
  }

  /** Sends a request of a page that answers plain JSON (the sandbox's own pages). */
  async sendPlain<T>(request: ApiRequest): Promise<ApiResponse<T>> {
    const { status, json, text, response } = await this.exchange(request);
    if (response.ok && json !== undefined) return { status, data: json as T };
    throw this.errorOf(response, json as Envelope | undefined, text);
  }

  private async exchange(request: ApiRequest) {
    const url = this.url(request.path, request.query);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(request.body !== undefined && { 'content-type': 'application/json' }),
      ...request.headers,
    };
    if (this.target.signer) {
      headers = await this.target.signer({
        method: request.method,
        url,
        headers,
        ...(request.body !== undefined && { body: request.body }),
      });
    }
    // fetch sets Host from the URL itself, the same value that was signed.
    const { host: _host, ...sent } = headers;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers: sent,
        ...(request.body !== undefined && { body: request.body }),
        signal: AbortSignal.any([this.options.signal, timeout]),
      });
    } catch (error) {
      if (this.options.signal.aborted) throw this.options.signal.reason;
      if (timeout.aborted) {
        throw new UnreachableError(
          `no answer from ${url.origin} within ${this.options.timeoutMs / 1000} s (--timeout)`,
        );
      }
      throw unreachable(this.target, url, error);
    }
    const text = await response.text();
    return { status: response.status, json: parseJson(text), text, response };
  }

  private errorOf(response: Response, envelope: Envelope | undefined, text: string): ApiError {
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
    const error = envelope?.success === false ? envelope.error : undefined;
    if (error && typeof error.code === 'string') {
      const details = Array.isArray(error.details)
        ? (error.details as FieldProblem[]).filter(
            (detail) => typeof detail?.field === 'string' && typeof detail?.message === 'string',
          )
        : [];
      return new ApiError(
        response.status,
        error.code,
        typeof error.message === 'string' ? error.message : response.statusText,
        details,
        retryAfter,
      );
    }
    // API Gateway's own answers: {"message": "Forbidden"}, a 403 for a bad signature, ...
    if (typeof envelope?.message === 'string') {
      return new ApiError(
        response.status,
        `HTTP_${response.status}`,
        envelope.message,
        [],
        retryAfter,
      );
    }
    return new ApiError(
      response.status,
      `HTTP_${response.status}`,
      text.trim() === ''
        ? `${response.status} ${response.statusText}`
        : `${response.status} ${response.statusText}: ${excerpt(text)}`,
      [],
      retryAfter,
    );
  }
}
