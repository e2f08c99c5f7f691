import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics, untracedLambdaHandler } from '#shared/runtime/logs-and-metrics.js';
import { type CaughtState, describeFailure } from './describe-failure.js';

/**
 * DescribeFailure: the caught error → the "Email Identity Verification Failed" detail. It makes
 * no AWS call, so it is not wrapped with the X-Ray tracer (Lambda traces its invocation).
 */
export const handler = untracedLambdaHandler(async (event: CaughtState) => {
  const detail = describeFailure(event);
  logger.warn('Verification failed', { identity: detail.identity, reason: detail.reason.code });
  metrics.addMetric('VerificationFailed', MetricUnit.Count, 1);
  return detail;
});
