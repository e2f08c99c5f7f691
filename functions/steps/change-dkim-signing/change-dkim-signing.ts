import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutEmailIdentityDkimSigningAttributesCommand } from '@aws-sdk/client-sesv2';
import { toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { readKeySecret } from '#shared/dkim/key-secret.js';
import { generateDkimKeyPair, keyLengthForBits, scrubPrivateKey } from '#shared/dkim/keys.js';
import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { dkimRecordsFor } from '#shared/dns/records.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { logger, metrics } from '#shared/runtime/observability.js';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import type { CreatedIdentity, DkimKeyLength, DkimStatus } from '#shared/workflow/types.js';
import {
  type DkimChangePlan,
  type KeySource,
  planDkimChange,
  staleRecordsOf,
} from './dkim-change-plan.js';

/** A BYODKIM key in hand: the private half goes to SES only. */
interface SigningKey {
  privateKey: string;
  publicKey: string;
  keyLength: DkimKeyLength | null;
}

/**
 * Changes how a domain identity signs (PutEmailIdentityDkimSigningAttributes): switch between
 * Easy DKIM and BYODKIM, enable either, rotate a BYODKIM key, or change the Easy DKIM key
 * length. `current` is the signing ReadDkimSigning saw before the change, so a retry of this
 * step (SES may already have applied it) still knows the old records. The change is planned
 * first (dkim-change-plan.ts), then carried out. Returns the identity as the publish → check →
 * notify path expects it, with the change and the records it made stale, which the workflow
 * removes only once the new DKIM is SUCCESS. The key's secret, if any, is left for the
 * DiscardKeySecret step.
 */
export async function changeDkimSigning(
  request: DkimChangeRequest,
  current: SigningSnapshot,
): Promise<CreatedIdentity> {
  const now = clock.now();
  const plan = planDkimChange(request, current, now);
  const key = await signingKeyFrom(plan.key);
  const applied = await apply(plan, key, current);

  const keyLength = plan.to.signing_key_length ?? key?.keyLength ?? null;
  const identity: CreatedIdentity = {
    identity: plan.identity,
    identity_type: 'DOMAIN',
    created_at: now.toISOString(),
    adopted: false,
    configuration_set_name: current.configuration_set_name,
    dkim: {
      origin: plan.to.origin,
      tokens: applied.tokens,
      selector: plan.to.selector,
      status: applied.status,
      current_signing_key_length: plan.from.signing_key_length,
      next_signing_key_length: plan.to.next_signing_key_length ?? key?.keyLength ?? null,
      public_key: key?.publicKey ?? null,
      ...(plan.to.origin === 'AWS_SES' && {
        signing_hosted_zone: signingHostedZone(applied.signingHostedZone),
      }),
    },
    dns: {
      provider: request.Dns?.Provider ?? null,
      hosted_zone_id: request.Dns?.HostedZoneId ?? null,
    },
    change: null,
  };
  const staleRecords = staleRecordsOf(
    plan,
    dkimRecordsFor(identity).map((record) => record.name),
  );
  metrics.addMetric('DkimSigningChanged', MetricUnit.Count, 1);
  logger.info('DKIM signing changed', {
    identity: plan.identity,
    kind: plan.kind,
    from: { origin: plan.from.origin, selector: plan.from.selector },
    to: { origin: plan.to.origin, selector: plan.to.selector },
    staleRecords: staleRecords.map((r) => `${r.type} ${r.name}`),
  });
  return {
    ...identity,
    change: {
      kind: plan.kind,
      from: plan.from,
      to: {
        origin: plan.to.origin,
        selector: plan.to.selector,
        tokens: applied.tokens,
        signing_key_length: keyLength,
      },
      stale_records: staleRecords,
    },
  };
}

/** The new BYODKIM key: read from its secret, or generated here. */
async function signingKeyFrom(source: KeySource): Promise<SigningKey | null> {
  if (source.source === 'SECRET') {
    const supplied = await readKeySecret(source.secretArn, source.field);
    return { ...supplied, keyLength: keyLengthForBits(supplied.bits) };
  }
  if (source.source === 'GENERATED') {
    return { ...(await generateDkimKeyPair(source.keyLength)), keyLength: source.keyLength };
  }
  return null;
}

/** Calls SES as planned (unless nothing changes); what SES says the DKIM now is. */
async function apply(
  plan: DkimChangePlan,
  key: SigningKey | null,
  current: SigningSnapshot,
): Promise<{ status: DkimStatus; tokens: string[]; signingHostedZone: string | null }> {
  if (plan.sesInput === null) {
    return {
      status: current.dkim_status ?? 'NOT_STARTED',
      tokens: plan.from.origin === 'AWS_SES' ? plan.from.tokens : [],
      signingHostedZone: null,
    };
  }
  const input = key
    ? {
        ...plan.sesInput,
        SigningAttributes: {
          ...plan.sesInput.SigningAttributes,
          DomainSigningPrivateKey: key.privateKey,
        },
      }
    : plan.sesInput;
  try {
    const response = await sesv2Client.send(
      new PutEmailIdentityDkimSigningAttributesCommand(input),
    );
    return {
      status: (response.DkimStatus as DkimStatus | undefined) ?? 'PENDING',
      tokens: plan.to.origin === 'AWS_SES' ? [...(response.DkimTokens ?? [])] : [],
      signingHostedZone: response.SigningHostedZone ?? null,
    };
  } catch (error) {
    if (key) scrubPrivateKey(error, key.privateKey);
    throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${plan.identity}`);
  }
}
