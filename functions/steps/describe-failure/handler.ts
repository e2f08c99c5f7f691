import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { type CaughtState, describeFailure } from './describe-failure.js';

/** DescribeFailure: the caught error → the "Email Identity Verification Failed" detail. */
export const handler = lambdaHandler(async (event: CaughtState) => {
  const detail = describeFailure(event);
  logger.warn('Verification failed', { identity: detail.identity, reason: detail.reason.code });
  metrics.addMetric('VerificationFailed', MetricUnit.Count, 1);
  return detail;
});
