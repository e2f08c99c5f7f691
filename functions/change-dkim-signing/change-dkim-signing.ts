import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  PutEmailIdentityDkimSigningAttributesCommand,
} from '@aws-sdk/client-sesv2';
import { sesv2Client } from '../lib/clients/sesv2.js';
import { clock } from '../lib/clock.js';
import { keyLengthChangeRefusal } from '../lib/dkim-key-length.js';
import { generateDkimKeyPair, keyLengthForBits } from '../lib/dkim-keys.js';
import { dkimRecordsFor } from '../lib/dns/records.js';
import { ConflictError, SesNotFoundError, ValidationError } from '../lib/errors.js';
import { logger, metrics } from '../lib/observability.js';
import type { DkimChangeRequest } from '../lib/request/index.js';
import { originOf, selectorOf } from '../lib/ses-dkim.js';
import { awsErrorName, scrubSecret, toStepError } from '../lib/ses-errors.js';
import { deleteSuppliedKeySecret, readSuppliedKey } from '../lib/signing-key-secret.js';
import type {
  CreatedIdentity,
  DkimChange,
  DkimChangeKind,
  DkimKeyLength,
  DkimSigning,
  DkimStatus,
  StaleRecord,
} from '../lib/types.js';

const SECRET_FIELD = 'SigningAttributes.DomainSigningPrivateKeySecretArn';

interface NewKey {
  privateKey: string;
  publicKey: string;
  keyLength: DkimKeyLength | null;
}

/**
 * Changes how a domain identity signs (PutEmailIdentityDkimSigningAttributes): switch between
 * Easy DKIM and BYODKIM, enable either, rotate a BYODKIM key, or change the Easy DKIM key
 * length. Returns the identity as the publish → check → notify path expects it, with the change
 * and the records it made stale, which the workflow removes only once the new DKIM is SUCCESS.
 */
export async function changeDkimSigning(request: DkimChangeRequest): Promise<CreatedIdentity> {
  const identity = request.EmailIdentity;
  const existing = await readIdentity(identity);
  const from = signingOf(existing);
  const now = clock.now();
  const kind = changeKind(request, from, existing);
  const refusal = keyLengthChangeRefusal(request, existing, now);
  if (refusal !== undefined) throw new ConflictError(refusal);

  const selector =
    request.SigningAttributesOrigin === 'EXTERNAL'
      ? (request.SigningAttributes?.DomainSigningSelector ?? newSelector(from.selector, now))
      : null;
  const secretArn = request.SigningAttributes?.DomainSigningPrivateKeySecretArn;
  const key = request.SigningAttributesOrigin === 'EXTERNAL' ? await newKey(request) : null;

  let status: DkimStatus =
    (existing.DkimAttributes?.Status as DkimStatus | undefined) ?? 'NOT_STARTED';
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
      if (key) scrubSecret(error, key.privateKey);
      throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${identity}`);
    }
  }
  // SES holds the key now: the secret has done its job.
  if (secretArn !== undefined) await deleteSuppliedKeySecret(secretArn);

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
    configuration_set_name: existing.ConfigurationSetName ?? null,
    dkim: {
      origin: request.SigningAttributesOrigin,
      tokens,
      selector,
      status,
      current_signing_key_length: existing.DkimAttributes?.CurrentSigningKeyLength ?? null,
      next_signing_key_length:
        request.SigningAttributesOrigin === 'AWS_SES'
          ? (request.SigningAttributes?.NextSigningKeyLength ??
            existing.DkimAttributes?.NextSigningKeyLength ??
            null)
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

async function readIdentity(identity: string): Promise<GetEmailIdentityCommandOutput> {
  try {
    return await sesv2Client.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
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

/** How the identity signs today; origin null when it has no DKIM set up (NOT_STARTED, no tokens). */
function signingOf(existing: GetEmailIdentityCommandOutput): DkimSigning {
  if (existing.IdentityType !== undefined && existing.IdentityType !== 'DOMAIN') {
    throw new ValidationError([
      {
        field: 'EmailIdentity',
        message: `is an ${existing.IdentityType} in SES; DKIM signing applies to domains only`,
      },
    ]);
  }
  const attributes = existing.DkimAttributes;
  const origin = originOf(attributes);
  const hasDkim = origin !== undefined && (attributes?.Tokens?.length ?? 0) > 0;
  if (!hasDkim) return { origin: null, selector: null, tokens: [], signing_key_length: null };
  return {
    origin: origin ?? null,
    selector: selectorOf(attributes) ?? null,
    tokens: origin === 'AWS_SES' ? [...(attributes?.Tokens ?? [])] : [],
    signing_key_length: attributes?.CurrentSigningKeyLength ?? null,
  };
}

function changeKind(
  request: DkimChangeRequest,
  from: DkimSigning,
  existing: GetEmailIdentityCommandOutput,
): DkimChangeKind {
  if (request.SigningAttributesOrigin === 'EXTERNAL') {
    if (from.origin === 'EXTERNAL') return 'BYODKIM_KEY_ROTATION';
    return from.origin === 'AWS_SES' ? 'EASY_DKIM_TO_BYODKIM' : 'ENABLE_BYODKIM';
  }
  if (from.origin === 'EXTERNAL') return 'BYODKIM_TO_EASY_DKIM';
  if (from.origin === null) return 'ENABLE_EASY_DKIM';
  const wanted = request.SigningAttributes?.NextSigningKeyLength;
  const current = existing.DkimAttributes?.NextSigningKeyLength;
  return wanted !== undefined && wanted !== current ? 'EASY_DKIM_KEY_LENGTH' : 'NO_CHANGE';
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
    const supplied = await readSuppliedKey(
      attributes.DomainSigningPrivateKeySecretArn,
      SECRET_FIELD,
    );
    if (supplied === undefined) {
      throw new ValidationError([
        {
          field: SECRET_FIELD,
          message: 'names a secret that does not exist (or is being deleted)',
        },
      ]);
    }
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
