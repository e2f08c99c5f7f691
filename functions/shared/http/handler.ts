import type { APIGatewayProxyResult } from 'aws-lambda';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { type HttpApiEvent, success } from './envelope.js';
import { HttpError, toErrorResponse } from './errors.js';

/**
 * An API route as a Lambda handler: the route returns its status and data, and every error it
 * throws becomes the error envelope (400, 404, 409, 413, 415, 429 or 500), so no route can
 * answer outside the contract.
 */
export function apiHandler<T>(
  route: (event: HttpApiEvent) => Promise<{ status: number; data: T }>,
) {
  return lambdaHandler(async (event: HttpApiEvent): Promise<APIGatewayProxyResult> => {
    try {
      const { status, data } = await route(event);
      return success(status, data);
    } catch (error) {
      return toErrorResponse(error);
    }
  });
}

/** The `{identity}` path parameter, as API Gateway decoded it (an address's `@` included). */
export function pathIdentity(event: HttpApiEvent): string {
  const identity = event.pathParameters?.identity;
  if (identity === undefined || identity === '') {
    throw new HttpError('VALIDATION_ERROR', 'The path has no identity', [
      { field: 'identity', message: 'is required' },
    ]);
  }
  return identity;
}
