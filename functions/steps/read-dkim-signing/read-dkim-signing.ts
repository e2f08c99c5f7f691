import { type SigningSnapshot, signingSnapshotOf } from '#shared/dkim/signing.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { SesNotFoundError } from '#shared/workflow/errors.js';

/** Reads the domain's signing from SES; SesNotFoundError when SES does not know the identity. */
export async function readSigningSnapshot(identity: string): Promise<SigningSnapshot> {
  const existing = await getEmailIdentity(identity);
  if (existing === null) {
    throw new SesNotFoundError(
      `${identity} is not an SES identity in this account and Region: create it first (POST /identities)`,
    );
  }
  return signingSnapshotOf(existing);
}
