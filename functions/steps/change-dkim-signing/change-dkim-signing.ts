import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutEmailIdentityDkimSigningAttributesCommand } from '@aws-sdk/client-sesv2';
import { toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { readKeySecret } from '#shared/dkim/key-secret.js';
import { scrubPrivateKey } from '#shared/dkim/keys.js';
import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { dkimRecordsFor } from '#shared/dns/records.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { logger, metrics } from '#shared/runtime/observability.js';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import type { CreatedIdentity, DkimChange, DkimStatus } from '#shared/workflow/types.js';
import type { PreparedDkimChange } from '#steps/prepare-dkim-change/prepare-dkim-change.js';
import { KEY_SECRET_FIELD, planDkimChange, staleRecordsOf } from './dkim-change-plan.js';

/**
 * Switches SES to the signing PrepareDkimChange worked out (PutEmailIdentityDkimSigningAttributes).
 * For BYODKIM the workflow runs it only once our probe sees the new selector's TXT record at the
 * domain's authoritative servers, so SES verifies the new key at its first look and the old
 * selector keeps verifying meanwhile. For Easy DKIM SES makes the tokens only now, so their
 * CNAMEs are published right after. `current` is the signing ReadDkimSigning saw, so that a
 * retry (SES may already have applied the change) still knows what it changes from. The key's
 * secret, if any, is left for the DiscardKeySecret step.
 */
export async function changeDkimSigning(
  request: DkimChangeRequest,
  current: SigningSnapshot,
  prepared: PreparedDkimChange,
): Promise<CreatedIdentity> {
  const now = clock.now();
  const target = prepared.identity;
  const change = target.change;
  if (change === null || target.dkim === null) {
    throw new Error('ChangeDkimSigning needs the change PrepareDkimChange worked out');
  }
  // The refusals hold as when it was prepared; the Easy DKIM input is SES's request as planned.
  const plan = planDkimChange(request, current, now);
  const sesInput =
    change.to.origin === 'EXTERNAL'
      ? {
          EmailIdentity: target.identity,
          SigningAttributesOrigin: 'EXTERNAL' as const,
          SigningAttributes: { DomainSigningSelector: change.to.selector ?? undefined },
        }
      : plan.sesInput;

  let status: DkimStatus = current.dkim_status ?? 'NOT_STARTED';
  let tokens: string[] = change.from.origin === 'AWS_SES' ? change.from.tokens : [];
  let hostedZone: string | null = null;
  if (sesInput !== null) {
    const key =
      prepared.key_secret_arn === null
        ? null
        : await readKeySecret(prepared.key_secret_arn, KEY_SECRET_FIELD);
    const input = key
      ? {
          ...sesInput,
          SigningAttributes: {
            ...sesInput.SigningAttributes,
            DomainSigningPrivateKey: key.privateKey,
          },
        }
      : sesInput;
    try {
      const response = await sesv2Client.send(
        new PutEmailIdentityDkimSigningAttributesCommand(input),
      );
      status = (response.DkimStatus as DkimStatus | undefined) ?? 'PENDING';
      tokens = change.to.origin === 'AWS_SES' ? [...(response.DkimTokens ?? [])] : [];
      hostedZone = response.SigningHostedZone ?? null;
    } catch (error) {
      if (key) scrubPrivateKey(error, key.privateKey);
      throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${target.identity}`);
    }
  }

  const identity: CreatedIdentity = {
    ...target,
    dkim: {
      ...target.dkim,
      tokens,
      status,
      ...(change.to.origin === 'AWS_SES' && { signing_hosted_zone: signingHostedZone(hostedZone) }),
    },
    change: null,
  };
  const switched: DkimChange = {
    ...change,
    to: { ...change.to, tokens },
    switched_at: now.toISOString(),
  };
  if (change.to.origin === 'AWS_SES') {
    // Now that SES has named its tokens: a switch back may reuse a name the old signing had.
    const stale = staleRecordsOf(
      { identity: target.identity, from: change.from },
      dkimRecordsFor(identity).map((record) => record.name),
    );
    const keep = (r: { type: string; name: string }) =>
      stale.some((s) => s.type === r.type && s.name === r.name);
    switched.stale_records = stale;
    switched.stale_removal = {
      ...change.stale_removal,
      records: change.stale_removal.records.filter(keep),
      by_hand: change.stale_removal.by_hand.filter(keep),
    };
  }
  metrics.addMetric('DkimSigningChanged', MetricUnit.Count, 1);
  logger.info('DKIM signing switched', {
    identity: target.identity,
    kind: change.kind,
    to: { origin: change.to.origin, selector: change.to.selector },
    status,
  });
  return { ...identity, change: switched };
}
