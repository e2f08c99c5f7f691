import type { APIGatewayProxyResult } from 'aws-lambda';
import { isThrottling } from '#shared/aws/classify-error.js';
import { logger } from '#shared/runtime/observability.js';
import { ConflictError, type FieldIssue, ValidationError } from '#shared/workflow/errors.js';
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
