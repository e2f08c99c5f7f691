import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { type SesIdentity, sesIdentityOf } from './identity-view.js';

/**
 * The one reader of SES's GetEmailIdentity: the identity in our vocabulary, or null when SES
 * does not know it (NotFoundException). Any other failure is the error the state machine or the
 * API acts on (classify-error.ts): ThrottlingError, ServiceUnavailableError...
 */
export async function getEmailIdentity(identity: string): Promise<SesIdentity | null> {
  try {
    const output = await sesv2Client.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    return sesIdentityOf(identity, output);
  } catch (error) {
    if (sesErrorName(error) === 'NotFoundException') return null;
    throw toStepError(error, `GetEmailIdentity ${identity}`);
  }
}
