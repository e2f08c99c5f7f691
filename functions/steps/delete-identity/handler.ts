import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { deleteIdentity } from '#shared/ses/identity-settings.js';

/** What DeleteIdentity receives: the identity the run holds. */
export interface DeleteIdentityInput {
  identity: string;
}

/** What SES did: `ses_deleted` false when SES no longer had the identity (gone either way). */
export interface DeletedSesIdentity {
  ses_deleted: boolean;
}

/**
 * DeleteIdentity: DeleteEmailIdentity, queued on the SES request queue like the other SES steps,
 * so it waits for the SES budget instead of failing on throttling. SES's NotFoundException is
 * success (terraform-provider-aws's sesv2 resourceEmailIdentityDelete treats it so too): the
 * identity is gone, which is what offboarding wants. SES leaves DNS alone; the run's next step
 * removes the records the stack published.
 */
export async function deleteIdentityStep(event: DeleteIdentityInput): Promise<DeletedSesIdentity> {
  const deleted = await deleteIdentity(event.identity);
  metrics.addMetric('IdentityDeleted', MetricUnit.Count, 1);
  logger.info('SES identity deleted', { identity: event.identity, sesHadIt: deleted });
  return { ses_deleted: deleted };
}

export const handler = lambdaHandler(deleteIdentityStep);
