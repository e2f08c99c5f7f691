import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { discardKeySecret } from './discard-key-secret.js';

/** DiscardKeySecret: the request's key secret, if any, deleted once SES holds the key. */
export const handler = lambdaHandler(
  async (event: { request: unknown; key_secret_arn?: string | null }) => {
    const result = await discardKeySecret(event.request, event.key_secret_arn ?? null);
    if (result.deleted !== null) {
      logger.info('Deleted the signing key secret', { secretArn: result.deleted });
      metrics.addMetric('SigningKeySecretDeleted', MetricUnit.Count, 1);
    }
    return result;
  },
);
