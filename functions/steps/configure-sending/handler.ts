import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import type { CreatedIdentity, SendingSetup } from '#shared/workflow/types.js';
import { configureSending } from './configure-sending.js';

/** What ConfigureSending receives: CreateIdentity's output, with the parts the request asks for. */
export interface ConfigureSendingInput {
  identity: CreatedIdentity;
}

const settings = {
  account: requireEnv('AWS_ACCOUNT_ID'),
  region: requireEnv('AWS_REGION'),
};

/**
 * ConfigureSending (run by the SES request worker, in the changes lane): the request's custom
 * MAIL FROM domain and tenant, at SES.
 */
export const handler = lambdaHandler(
  async (event: ConfigureSendingInput): Promise<SendingSetup> => {
    const setup = await configureSending(event.identity, settings);
    logger.info('Sending configured', {
      identity: event.identity.identity,
      mailFrom: setup.mail_from?.domain ?? null,
      tenant: setup.tenant?.name ?? null,
      tenantCreated: setup.tenant?.created ?? false,
    });
    if (setup.tenant?.created) metrics.addMetric('TenantCreated', MetricUnit.Count, 1);
    return setup;
  },
);
