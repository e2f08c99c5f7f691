import { type DkimAttributes, GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { sesErrorName } from '#shared/aws/classify-error.js';
import { sesv2ClientFor } from '#shared/aws/clients/sesv2.js';

/** GetEmailIdentity in `region`: the DKIM attributes, or null when SES there does not know it. */
export async function readReplicaIdentity(
  region: string,
  identity: string,
): Promise<DkimAttributes | null> {
  try {
    const response = await sesv2ClientFor(region).send(
      new GetEmailIdentityCommand({ EmailIdentity: identity }),
    );
    return response.DkimAttributes ?? {};
  } catch (error) {
    if (sesErrorName(error) === 'NotFoundException') return null;
    throw error;
  }
}
