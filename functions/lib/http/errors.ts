import type { APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, type FieldIssue, ThrottlingError, ValidationError } from '../errors.js';
import { logger } from '../observability.js';
import { type ApiErrorCode, failure } from './envelope.js';

/**
 * A problem that only exists at the HTTP edge (unknown identity, oversized or non-JSON body).
 * The state machine never sees it, so it is not one of the step error classes in errors.ts.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: FieldIssue[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// Names AWS SDK v3 gives throttling across the services we call (Step Functions, SES v2,
// Secrets Manager); the SDK also flags them with $retryable.throttling.
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

interface SdkErrorShape {
  name?: unknown;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/** True when an AWS service (or our own step code) says we are calling it too fast. */
export function isThrottling(error: unknown): boolean {
  if (error instanceof ThrottlingError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as SdkErrorShape;
  return (
    (typeof shape.name === 'string' && THROTTLING_NAMES.has(shape.name)) ||
    shape.$retryable?.throttling === true ||
    shape.$metadata?.httpStatusCode === 429
  );
}

/**
 * Maps anything a handler throws to an envelope response. Known classes keep their message
 * (they are written for callers and never carry a key); anything else becomes a generic 500
 * so that an SDK message or a stack never reaches the caller, and is logged instead.
 */
export function toErrorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof HttpError) return failure(error.code, error.message, error.details);
  if (error instanceof ValidationError) {
    return failure('VALIDATION_ERROR', 'The request is not valid', error.details);
  }
  if (error instanceof ConflictError) return failure('CONFLICT', error.message);
  if (isThrottling(error)) {
    logger.warn('Throttled by an AWS service', { errorName: nameOf(error) });
    return failure('THROTTLED', 'Too many requests to AWS right now; retry with backoff');
  }
  logger.error('Request failed', { errorName: nameOf(error) });
  return failure('INTERNAL_ERROR', 'Internal error; the request may be retried');
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
