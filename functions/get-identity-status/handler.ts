import type { APIGatewayProxyResult } from 'aws-lambda';
import { integerEnv, optionalEnv, requireEnv } from '../lib/config.js';
import { type HttpApiEvent, HttpError, success, toErrorResponse } from '../lib/http/index.js';
import { lambdaHandler } from '../lib/observability.js';
import { getIdentityStatus } from './get-identity-status.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  recordTtl:
    optionalEnv('DNS_RECORD_TTL') === undefined ? undefined : integerEnv('DNS_RECORD_TTL', 1),
};

/** GET /identities/{identity}: 200 with SES's state, the expected records and the latest run. */
export const handler = lambdaHandler(
  async (event: HttpApiEvent): Promise<APIGatewayProxyResult> => {
    try {
      const identity = event.pathParameters?.identity;
      if (identity === undefined || identity === '') {
        throw new HttpError('VALIDATION_ERROR', 'The path has no identity', [
          { field: 'identity', message: 'is required' },
        ]);
      }
      return success(200, await getIdentityStatus(identity, config));
    } catch (error) {
      return toErrorResponse(error);
    }
  },
);
