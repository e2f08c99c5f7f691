import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutEmailIdentityDkimSigningAttributesCommand } from '@aws-sdk/client-sesv2';
import { toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { readKeySecret } from '#shared/dkim/key-secret.js';
import { generateDkimKeyPair, keyLengthForBits, scrubPrivateKey } from '#shared/dkim/keys.js';
import {
  isKeyLengthChange,
  keyLengthChangeRefusal,
  type SigningSnapshot,
} from '#shared/dkim/signing.js';
import { dkimRecordsFor } from '#shared/dns/records.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { logger, metrics } from '#shared/runtime/observability.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import type {
  CreatedIdentity,
  DkimChange,
  DkimChangeKind,
  DkimKeyLength,
  DkimSigning,
  DkimStatus,
  StaleRecord,
} from '#shared/workflow/types.js';

const SECRET_FIELD = 'SigningAttributes.DomainSigningPrivateKeySecretArn';

interface NewKey {
  privateKey: string;
  publicKey: string;
  keyLength: DkimKeyLength | null;
}

/**
 * Changes how a domain identity signs (PutEmailIdentityDkimSigningAttributes): switch between
 * Easy DKIM and BYODKIM, enable either, rotate a BYODKIM key, or change the Easy DKIM key
 * length. `current` is the signing ReadDkimSigning saw before the change, so a retry of this
 * step (SES may already have applied it) still knows the old records. Returns the identity as
 * the publish → check → notify path expects it, with the change and the records it made stale,
 * which the workflow removes only once the new DKIM is SUCCESS. The key's secret, if any, is
 * left for the DiscardKeySecret step.
 */
export async function changeDkimSigning(
  request: DkimChangeRequest,
  current: SigningSnapshot,
): Promise<CreatedIdentity> {
  const identity = request.EmailIdentity;
  if (current.identity_type !== null && current.identity_type !== 'DOMAIN') {
    throw new ValidationError([
      {
        field: 'EmailIdentity',
        message: `is an ${current.identity_type} in SES; DKIM signing applies to domains only`,
      },
    ]);
  }
  const from = current.signing;
  const now = clock.now();
  const kind = changeKind(request, current);
  const refusal = keyLengthChangeRefusal(request, current, now);
  if (refusal !== undefined) throw new ConflictError(refusal);

  const selector =
    request.SigningAttributesOrigin === 'EXTERNAL'
      ? (request.SigningAttributes?.DomainSigningSelector ?? newSelector(from.selector, now))
      : null;
  const key = request.SigningAttributesOrigin === 'EXTERNAL' ? await newKey(request) : null;

  let status: DkimStatus = current.dkim_status ?? 'NOT_STARTED';
  let tokens = from.origin === 'AWS_SES' ? from.tokens : [];
  if (kind !== 'NO_CHANGE') {
    try {
      const response = await sesv2Client.send(
        new PutEmailIdentityDkimSigningAttributesCommand({
          EmailIdentity: identity,
          SigningAttributesOrigin: request.SigningAttributesOrigin,
          SigningAttributes:
            request.SigningAttributesOrigin === 'EXTERNAL'
              ? {
                  DomainSigningSelector: selector ?? undefined,
                  DomainSigningPrivateKey: key?.privateKey,
                }
              : request.SigningAttributes?.NextSigningKeyLength
                ? { NextSigningKeyLength: request.SigningAttributes.NextSigningKeyLength }
                : undefined,
        }),
      );
      status = (response.DkimStatus as DkimStatus | undefined) ?? 'PENDING';
      tokens =
        request.SigningAttributesOrigin === 'AWS_SES' ? [...(response.DkimTokens ?? [])] : [];
    } catch (error) {
      if (key) scrubPrivateKey(error, key.privateKey);
      throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${identity}`);
    }
  }

  const to: DkimSigning = {
    origin: request.SigningAttributesOrigin,
    selector,
    tokens,
    signing_key_length:
      request.SigningAttributesOrigin === 'EXTERNAL'
        ? (key?.keyLength ?? null)
        : (request.SigningAttributes?.NextSigningKeyLength ?? from.signing_key_length),
  };
  const result: CreatedIdentity = {
    identity,
    identity_type: 'DOMAIN',
    created_at: now.toISOString(),
    adopted: false,
    configuration_set_name: current.configuration_set_name,
    dkim: {
      origin: request.SigningAttributesOrigin,
      tokens,
      selector,
      status,
      current_signing_key_length: from.signing_key_length,
      next_signing_key_length:
        request.SigningAttributesOrigin === 'AWS_SES'
          ? (request.SigningAttributes?.NextSigningKeyLength ?? current.next_signing_key_length)
          : (key?.keyLength ?? null),
      public_key: key?.publicKey ?? null,
    },
    dns: {
      provider: request.Dns?.Provider ?? null,
      hosted_zone_id: request.Dns?.HostedZoneId ?? null,
    },
    change: null,
  };
  const change: DkimChange = {
    kind,
    from,
    to,
    stale_records: staleRecords(identity, from, result),
  };
  metrics.addMetric('DkimSigningChanged', MetricUnit.Count, 1);
  logger.info('DKIM signing changed', {
    identity,
    kind,
    from: { origin: from.origin, selector: from.selector },
    to: { origin: to.origin, selector: to.selector },
    staleRecords: change.stale_records.map((r) => `${r.type} ${r.name}`),
  });
  return { ...result, change };
}

function changeKind(request: DkimChangeRequest, current: SigningSnapshot): DkimChangeKind {
  const from = current.signing.origin;
  if (request.SigningAttributesOrigin === 'EXTERNAL') {
    if (from === 'EXTERNAL') return 'BYODKIM_KEY_ROTATION';
    return from === 'AWS_SES' ? 'EASY_DKIM_TO_BYODKIM' : 'ENABLE_BYODKIM';
  }
  if (from === 'EXTERNAL') return 'BYODKIM_TO_EASY_DKIM';
  if (from === null) return 'ENABLE_EASY_DKIM';
  return isKeyLengthChange(request, current) ? 'EASY_DKIM_KEY_LENGTH' : 'NO_CHANGE';
}

/** A BYODKIM rotation gets a selector of its own, so the old key keeps verifying until SUCCESS. */
function newSelector(current: string | null, now: Date): string {
  const base = `ses-${now.toISOString().slice(0, 10).replaceAll('-', '')}`;
  if (current !== base && !current?.startsWith(`${base}-`)) return base;
  const n = Number(current.slice(base.length + 1)) || 1;
  return `${base}-${n + 1}`;
}

async function newKey(request: DkimChangeRequest): Promise<NewKey> {
  const attributes = request.SigningAttributes;
  if (attributes?.DomainSigningPrivateKeySecretArn !== undefined) {
    const supplied = await readKeySecret(attributes.DomainSigningPrivateKeySecretArn, SECRET_FIELD);
    return { ...supplied, keyLength: keyLengthForBits(supplied.bits) };
  }
  const keyLength = attributes?.GenerateDomainSigningKey?.KeyLength ?? 'RSA_2048_BIT';
  const pair = await generateDkimKeyPair(keyLength);
  return { ...pair, keyLength };
}

/** Old records whose names the new signing does not use. */
function staleRecords(identity: string, from: DkimSigning, next: CreatedIdentity): StaleRecord[] {
  const newNames = new Set(dkimRecordsFor(next).map((r) => r.name));
  const old: StaleRecord[] =
    from.origin === 'AWS_SES'
      ? from.tokens.map((token) => ({ type: 'CNAME', name: `${token}._domainkey.${identity}` }))
      : from.origin === 'EXTERNAL' && from.selector
        ? [{ type: 'TXT', name: `${from.selector}._domainkey.${identity}` }]
        : [];
  return old.filter((record) => !newNames.has(record.name.toLowerCase()));
}
