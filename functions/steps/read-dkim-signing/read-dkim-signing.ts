import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { awsErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { type SigningSnapshot, signingSnapshotOf } from '#shared/dkim/signing.js';
import { SesNotFoundError } from '#shared/workflow/errors.js';

/** Reads the domain's signing from SES; SesNotFoundError when SES does not know the identity. */
export async function readSigningSnapshot(identity: string): Promise<SigningSnapshot> {
  try {
    return signingSnapshotOf(
      await sesv2Client.send(new GetEmailIdentityCommand({ EmailIdentity: identity })),
    );
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') {
      throw new SesNotFoundError(
        `${identity} is not an SES identity in this account and Region: create it first (POST /identities)`,
        { cause: error },
      );
    }
    throw toStepError(error, `GetEmailIdentity ${identity}`);
  }
}
