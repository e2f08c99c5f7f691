import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CreateEmailIdentityCommand,
  type CreateEmailIdentityCommandInput,
} from '@aws-sdk/client-sesv2';
import { sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { readKeySecret } from '#shared/dkim/key-secret.js';
import { generateDkimKeyPair, keyLengthForBits, scrubPrivateKey } from '#shared/dkim/keys.js';
import { type IdentityRequest, identityTypeOf } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { logger, metrics } from '#shared/runtime/observability.js';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { type SesDkim, sesDkimOf } from '#shared/ses/identity-view.js';
import {
  ConcurrentModificationError,
  ConflictError,
  SesNotFoundError,
} from '#shared/workflow/errors.js';
import type { CreatedIdentity, DkimSummary } from '#shared/workflow/types.js';
import { type DkimPlan, dkimPlanOf } from './dkim-plan.js';
import { compareWithRequest } from './existing-identity.js';

/** A BYODKIM key in hand: the private half is for SES only. */
interface SigningKey {
  privateKey: string;
  publicKey: string;
  bits: number;
}

const GENERATED_KEY_BITS = { RSA_1024_BIT: 1024, RSA_2048_BIT: 2048 } as const;

/**
 * Creates the SES email identity a validated request describes, or adopts it when SES already
 * has a matching one, and returns what the next steps need (never the private key).
 * BYODKIM keys come from a Secrets Manager secret (which the DiscardKeySecret step deletes once
 * this step's output is safe in the execution's state, so a retry can still read it), or are
 * generated here and given to SES only.
 */
export async function createIdentity(request: IdentityRequest): Promise<CreatedIdentity> {
  const plan = dkimPlanOf(request);
  let key: SigningKey | undefined;
  if (plan.mode === 'BYODKIM_SECRET') {
    key = await readKeySecret(plan.secretArn);
  } else if (plan.mode === 'BYODKIM_GENERATED') {
    const pair = await generateDkimKeyPair(plan.keyLength);
    key = { ...pair, bits: GENERATED_KEY_BITS[plan.keyLength] };
  }

  let result: CreatedIdentity;
  try {
    const response = await sesv2Client.send(
      new CreateEmailIdentityCommand(toCreateInput(request, plan, key)),
    );
    result = output(request, {
      adopted: false,
      configurationSetName: request.ConfigurationSetName ?? null,
      dkim: dkimSummary(sesDkimOf(response.DkimAttributes), plan, key),
    });
    metrics.addMetric('IdentityCreated', MetricUnit.Count, 1);
    logger.info('Email identity created', logFields(result));
  } catch (error) {
    if (sesErrorName(error) !== 'AlreadyExistsException') {
      throw createError(error, request, key?.privateKey);
    }
    result = await adopt(request, plan, key);
  }

  return result;
}

function toCreateInput(
  request: IdentityRequest,
  plan: DkimPlan,
  key: SigningKey | undefined,
): CreateEmailIdentityCommandInput {
  const input: CreateEmailIdentityCommandInput = {
    EmailIdentity: request.EmailIdentity,
    Tags: request.Tags,
    ConfigurationSetName: request.ConfigurationSetName,
  };
  if (plan.mode === 'EASY') {
    input.DkimSigningAttributes = { NextSigningKeyLength: plan.nextSigningKeyLength };
  } else if (plan.mode !== 'NONE' && key !== undefined) {
    input.DkimSigningAttributes = {
      DomainSigningSelector: plan.selector,
      DomainSigningPrivateKey: key.privateKey,
    };
  }
  return input;
}

/** Adopts the identity SES already has, when it matches the request; else a ConflictError. */
async function adopt(
  request: IdentityRequest,
  plan: DkimPlan,
  key: SigningKey | undefined,
): Promise<CreatedIdentity> {
  const identity = request.EmailIdentity;
  const existing = await getEmailIdentity(identity);
  if (existing === null) {
    throw new ConcurrentModificationError(
      `Email identity ${identity} existed when this step tried to create it, and was gone when it read it: someone deleted it meanwhile; a retry creates it`,
    );
  }
  const { differences, notes } = compareWithRequest(existing, plan, request);
  if (differences.length > 0) {
    throw new ConflictError(
      `Email identity ${identity} already exists in SES and does not match the request: ${differences.join('; ')}. Delete the identity or change the request.`,
    );
  }
  if (plan.mode === 'BYODKIM_GENERATED') {
    throw new ConflictError(
      `Email identity ${identity} already exists in SES with BYODKIM selector "${plan.selector}", and a generated key cannot adopt it: SES does not reveal the key it holds, so the DKIM record cannot be derived. Supply the key through DomainSigningPrivateKeySecretArn, or delete the identity and start again.`,
    );
  }
  if (notes.length > 0) {
    logger.warn('Adopted email identity differs from the request in ways that do not block it', {
      identity,
      notes,
    });
  }
  const result = output(request, {
    adopted: true,
    configurationSetName: existing.configuration_set_name,
    dkim: dkimSummary(existing.dkim, plan, key),
  });
  metrics.addMetric('IdentityAdopted', MetricUnit.Count, 1);
  logger.info('Email identity already existed and matches the request: adopted', logFields(result));
  return result;
}

/** The step error for a failed CreateEmailIdentity; SES's NotFound means the configuration set. */
function createError(error: unknown, request: IdentityRequest, privateKey?: string): Error {
  if (privateKey !== undefined) scrubPrivateKey(error, privateKey);
  const context = `CreateEmailIdentity ${request.EmailIdentity}`;
  if (sesErrorName(error) === 'NotFoundException' && request.ConfigurationSetName !== undefined) {
    const detail = error instanceof Error ? error.message : String(error);
    return new SesNotFoundError(
      `The configuration set "${request.ConfigurationSetName}" does not exist in this account and Region (${context}: ${detail})`,
      { cause: error },
    );
  }
  return toStepError(error, context);
}

/** The DKIM summary of the identity SES created (or holds), for the plan that asked for it. */
function dkimSummary(
  dkim: SesDkim | null,
  plan: DkimPlan,
  key: SigningKey | undefined,
): DkimSummary | null {
  if (plan.mode === 'NONE') return null;
  const byodkim = plan.mode !== 'EASY';
  const origin = dkim?.origin ?? (byodkim ? 'EXTERNAL' : 'AWS_SES');
  return {
    origin,
    tokens: origin === 'AWS_SES' ? [...(dkim?.tokens ?? [])] : [],
    selector: byodkim ? plan.selector : null,
    status: dkim?.status ?? 'NOT_STARTED',
    current_signing_key_length:
      dkim?.current_signing_key_length ?? (key ? keyLengthForBits(key.bits) : null),
    next_signing_key_length: dkim?.next_signing_key_length ?? null,
    public_key: key?.publicKey ?? null,
    ...(origin === 'AWS_SES' && {
      signing_hosted_zone: signingHostedZone(dkim?.signing_hosted_zone),
    }),
  };
}

function output(
  request: IdentityRequest,
  parts: Pick<CreatedIdentity, 'adopted' | 'dkim'> & { configurationSetName: string | null },
): CreatedIdentity {
  return {
    identity: request.EmailIdentity,
    identity_type: identityTypeOf(request.EmailIdentity),
    created_at: clock.now().toISOString(),
    adopted: parts.adopted,
    configuration_set_name: parts.configurationSetName,
    dkim: parts.dkim,
    dns: {
      provider: request.Dns?.Provider ?? null,
      hosted_zone_id: request.Dns?.HostedZoneId ?? null,
    },
    change: null,
  };
}

function logFields(result: CreatedIdentity) {
  return {
    identity: result.identity,
    identity_type: result.identity_type,
    adopted: result.adopted,
    dkim_origin: result.dkim?.origin ?? null,
    dkim_status: result.dkim?.status ?? null,
  };
}
