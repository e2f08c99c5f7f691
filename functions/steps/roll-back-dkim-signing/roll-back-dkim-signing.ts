import {
  PutEmailIdentityDkimSigningAttributesCommand,
  type PutEmailIdentityDkimSigningAttributesCommandOutput,
} from '@aws-sdk/client-sesv2';
import { toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { clock } from '#shared/runtime/clock.js';
import { logger } from '#shared/runtime/observability.js';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import type { CreatedIdentity, DkimStatus } from '#shared/workflow/types.js';

/** What a rollback did, as the failure event's `rollback` says it. */
export interface DkimRollback {
  /** The signing SES was switched back to. */
  origin: 'AWS_SES';
  rolled_back_at: string;
  /** True when SES named the tokens the domain had before, whose CNAMEs never left DNS. */
  same_tokens: boolean;
  tokens: string[];
  status: DkimStatus;
}

/**
 * After a DKIM change away from Easy DKIM that SES failed once switched, switches SES back to
 * Easy DKIM (PutEmailIdentityDkimSigningAttributes, origin AWS_SES), the one way back SES allows
 * without a key: a BYODKIM key's private half is never kept, and SES never reveals one. SES does
 * not document whether the tokens it names then are the ones the domain had; when they are, their
 * CNAMEs are still in DNS (a failed change removes nothing), and when they are not, the
 * workflow publishes the new ones. Returns the identity to publish, and the rollback.
 */
export async function rollBackDkimSigning(
  identity: CreatedIdentity,
): Promise<{ identity: CreatedIdentity; rollback: DkimRollback; sending: string }> {
  const change = identity.change;
  if (change === null || change.from.origin !== 'AWS_SES' || identity.dkim === null) {
    throw new Error('RollBackDkimSigning goes back only to the Easy DKIM a change left');
  }
  let response: PutEmailIdentityDkimSigningAttributesCommandOutput;
  try {
    response = await sesv2Client.send(
      new PutEmailIdentityDkimSigningAttributesCommand({
        EmailIdentity: identity.identity,
        SigningAttributesOrigin: 'AWS_SES',
      }),
    );
  } catch (error) {
    throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${identity.identity}`);
  }
  const tokens = [...(response.DkimTokens ?? [])];
  const status = (response.DkimStatus as DkimStatus | undefined) ?? 'PENDING';
  const before = new Set(change.from.tokens);
  const rollback: DkimRollback = {
    origin: 'AWS_SES',
    rolled_back_at: clock.now().toISOString(),
    same_tokens: tokens.length > 0 && tokens.every((token) => before.has(token)),
    tokens,
    status,
  };
  logger.info('DKIM signing rolled back to Easy DKIM', {
    identity: identity.identity,
    sameTokens: rollback.same_tokens,
  });
  const sending = rollback.same_tokens
    ? `${identity.identity} was switched back to Easy DKIM, and SES named the tokens it had before: their CNAMEs never left DNS, so SES can verify them again and sign with Easy DKIM once it has (GET /identities/{identity} shows when).`
    : `${identity.identity} was switched back to Easy DKIM, and SES named new tokens: their CNAMEs are in "rollback" (published with the provider that published the change's records), and SES signs with Easy DKIM once it has verified them.`;
  return {
    sending,
    identity: {
      ...identity,
      dkim: {
        ...identity.dkim,
        origin: 'AWS_SES',
        tokens,
        selector: null,
        status,
        public_key: null,
        signing_hosted_zone: signingHostedZone(response.SigningHostedZone ?? null),
      },
    },
    rollback,
  };
}
