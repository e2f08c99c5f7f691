import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { FieldIssue } from '#shared/workflow/errors.js';

/**
 * What the handlers receive: the HTTP API's payload format 2.0, from API Gateway and from the
 * local sandbox alike. Its path parameters arrive decoded.
 */
export type HttpApiEvent = APIGatewayProxyEventV2;

/**
 * Error codes of the API envelope (DESIGN.md "HTTP API"), with their status codes. The two
 * transport-level codes (413, 415) are ours: the design lists the domain ones.
 */
export const API_ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  THROTTLED: 429,
  INTERNAL_ERROR: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface ApiErrorBody {
  success: false;
  error: { code: ApiErrorCode; message: string; details?: FieldIssue[] };
}

export interface ApiSuccessBody<T> {
  success: true;
  data: T;
}

// Responses are data, never pages: no caching, no content sniffing.
const HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * Seconds a throttled caller should wait. SES refills its control-plane bucket at about one
 * request per second, so a couple of seconds is enough for the next try to find room.
 */
export const RETRY_AFTER_SECONDS = '2';

/** A success response in the envelope `{"success": true, "data": ...}`. */
export function success<T>(statusCode: number, data: T): APIGatewayProxyResult {
  const body: ApiSuccessBody<T> = { success: true, data };
  return { statusCode, headers: { ...HEADERS }, body: JSON.stringify(body) };
}

/** An error response in the envelope; `details` only when there are field problems to list. */
export function failure(
  code: ApiErrorCode,
  message: string,
  details?: FieldIssue[],
): APIGatewayProxyResult {
  const body: ApiErrorBody = {
    success: false,
    error: details && details.length > 0 ? { code, message, details } : { code, message },
  };
  return {
    statusCode: API_ERROR_STATUS[code],
    // A 429 says when to come back (RFC 9110 section 10.2.3), so clients need not guess.
    headers:
      code === 'THROTTLED' ? { ...HEADERS, 'Retry-After': RETRY_AFTER_SECONDS } : { ...HEADERS },
    body: JSON.stringify(body),
  };
}
