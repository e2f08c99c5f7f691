import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { requireEnv } from '../lib/config.js';
import {
  type HttpApiEvent,
  HttpError,
  headerValue,
  parseJsonBody,
  success,
  toErrorResponse,
} from '../lib/http/index.js';
import { lambdaHandler, metrics } from '../lib/observability.js';
import { requestDkimChange } from './request-dkim-change.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  keySecretPrefix: requireEnv('KEY_SECRET_PREFIX'),
};

/**
 * PUT /identities/{identity}/dkim: 202 with the change run's id, or an error envelope
 * (400, 404, 409, 413, 415, 429, 500).
 */
export const handler = lambdaHandler(
  async (event: HttpApiEvent): Promise<APIGatewayProxyResult> => {
    try {
      const identity = event.pathParameters?.identity;
      if (identity === undefined || identity === '') {
        throw new HttpError('VALIDATION_ERROR', 'The path has no identity', [
          { field: 'identity', message: 'is required' },
        ]);
      }
      const result = await requestDkimChange(identity, parseJsonBody(event), config, {
        idempotencyKey: headerValue(event, 'idempotency-key'),
      });
      metrics.addMetric(
        result.repeated ? 'RepeatedRequest' : 'DkimChangeStarted',
        MetricUnit.Count,
        1,
      );
      return success(202, result);
    } catch (error) {
      return toErrorResponse(error);
    }
  },
);
