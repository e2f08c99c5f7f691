import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CreateEmailIdentityCommand,
  type CreateEmailIdentityCommandInput,
  PutEmailIdentityDkimSigningAttributesCommand,
} from '@aws-sdk/client-sesv2';
import { sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { readKeySecret } from '#shared/dkim/key-secret.js';
import { generateDkimKeyPair, keyLengthForBits, scrubPrivateKey } from '#shared/dkim/keys.js';
import { probeRecords } from '#shared/dns/probe.js';
import { probeOptionsFromEnv } from '#shared/dns/probe-config.js';
import { dkimTxtValue } from '#shared/dns/records.js';
import { type IdentityRequest, identityTypeOf } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { requireEnv } from '#shared/runtime/config.js';
import { logger, metrics } from '#shared/runtime/observability.js';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { readReplicaIdentity } from '#shared/ses/identity-in-region.js';
import {
  applyTags,
  deleteIdentity,
  identityArn,
  setConfigurationSet,
} from '#shared/ses/identity-settings.js';
import { type SesDkim, type SesIdentity, sesDkimOf } from '#shared/ses/identity-view.js';
import {
  ConcurrentModificationError,
  ConflictError,
  ReplicaParentNotReadyError,
  ServiceUnavailableError,
  SesBadRequestError,
  SesNotFoundError,
} from '#shared/workflow/errors.js';
import type {
  CreatedIdentity,
  DkimStatus,
  DkimSummary,
  RequestedParts,
  VerificationRestart,
} from '#shared/workflow/types.js';
import { type DkimPlan, dkimPlanOf } from './dkim-plan.js';
import {
  differencesFrom,
  isVerified,
  type PublishedKey,
  settingsToApply,
} from './existing-identity.js';

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
      throw plan.mode === 'REPLICA'
        ? await replicaCreateError(error, request, plan)
        : createError(error, request, key?.privateKey);
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
  } else if (plan.mode === 'REPLICA') {
    // SES's model types the origin as an enum; the request's value is one of its AWS_SES_<REGION>.
    input.DkimSigningAttributes = { DomainSigningAttributesOrigin: plan.origin as never };
  } else if (plan.mode !== 'NONE' && key !== undefined) {
    input.DkimSigningAttributes = {
      DomainSigningSelector: plan.selector,
      DomainSigningPrivateKey: key.privateKey,
    };
  }
  return input;
}

/**
 * Adopts the identity SES already has, when it matches the request (else a ConflictError naming
 * every difference and pointing to the DKIM change route): restarts a verification SES gave up
 * on, or one it cannot finish with the key it holds, and applies the request's tags and
 * configuration set. SES documents no call that restarts a failed verification: it asks to
 * "restart the verification process from the beginning" (VerifyDomainIdentity, SES API
 * reference). So an Easy DKIM identity or an address is recreated, only when nothing can be lost
 * (no sending authorization policy, no custom MAIL FROM: tags and the configuration set come
 * from the request), and a BYODKIM identity is given its key again.
 */
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
  const published =
    plan.mode === 'BYODKIM_SECRET' || plan.mode === 'BYODKIM_GENERATED'
      ? await publishedKeyAt(identity, plan.selector, key)
      : 'NONE';
  const differences = differencesFrom(existing, plan, published);
  if (differences.length > 0) {
    throw new ConflictError(
      `Email identity ${identity} already exists in SES and does not match the request: ${differences.join('; ')}. To change how it signs, use PUT /identities/${identity}/dkim; otherwise send a request that matches it.`,
    );
  }

  const restart = restartOf(existing, plan, published);
  let dkim = existing.dkim;
  if (restart !== null) {
    dkim = await restartVerification(existing, restart, request, plan, key);
  } else {
    await applySettings(existing, request);
  }
  const result = output(request, {
    adopted: true,
    configurationSetName: request.ConfigurationSetName ?? existing.configuration_set_name,
    dkim: dkimSummary(dkim, plan, key),
    restart,
  });
  metrics.addMetric(
    restart === null ? 'IdentityAdopted' : 'VerificationRestarted',
    MetricUnit.Count,
    1,
  );
  logger.info('Email identity already existed and matches the request: adopted', {
    ...logFields(result),
    restart: restart?.method ?? null,
  });
  return result;
}

/** Whether (and how) the adopted identity's verification must start again, and why. */
function restartOf(
  existing: SesIdentity,
  plan: DkimPlan,
  published: PublishedKey,
): VerificationRestart | null {
  if (plan.mode === 'NONE') {
    return existing.verified_for_sending
      ? null
      : {
          method: 'RECREATED',
          reason: 'the address is not verified: a new verification message is sent',
        };
  }
  const status = existing.dkim?.status ?? null;
  if (plan.mode === 'EASY' || plan.mode === 'REPLICA') {
    return status === 'FAILED'
      ? { method: 'RECREATED', reason: 'SES had stopped looking for the DKIM records (FAILED)' }
      : null;
  }
  if (plan.mode === 'BYODKIM_GENERATED') {
    return isVerified(existing)
      ? null
      : { method: 'NEW_KEY', reason: 'a new key pair for the selector, as the request asks' };
  }
  if (status === 'FAILED') {
    return { method: 'KEY_RESENT', reason: 'SES had stopped looking for the DKIM record (FAILED)' };
  }
  return published === 'NONE' && !isVerified(existing)
    ? {
        method: 'KEY_RESENT',
        reason:
          "no DNS record shows which key SES holds for the selector: it is given the request's",
      }
    : null;
}

/** Restarts the verification; the identity's DKIM as SES reports it afterwards. */
async function restartVerification(
  existing: SesIdentity,
  restart: VerificationRestart,
  request: IdentityRequest,
  plan: DkimPlan,
  key: SigningKey | undefined,
): Promise<SesDkim | null> {
  const identity = request.EmailIdentity;
  if (restart.method === 'RECREATED') {
    const lost = [
      ...existing.policy_names.map((name) => `the sending authorization policy "${name}"`),
      ...(existing.mail_from_domain === null
        ? []
        : [`the custom MAIL FROM domain ${existing.mail_from_domain}`]),
    ];
    if (lost.length > 0) {
      throw new ConflictError(
        `Email identity ${identity} is not verified and SES restarts a verification only from the beginning, by recreating the identity, which would lose ${lost.join(' and ')}: recreate it yourself, or remove them first`,
      );
    }
    await deleteIdentity(identity);
    try {
      const response = await sesv2Client.send(
        new CreateEmailIdentityCommand(toCreateInput(request, plan, key)),
      );
      return sesDkimOf(response.DkimAttributes);
    } catch (error) {
      throw plan.mode === 'REPLICA'
        ? await replicaCreateError(error, request, plan)
        : createError(error, request, key?.privateKey);
    }
  }
  if (key === undefined || plan.mode === 'NONE' || plan.mode === 'EASY' || plan.mode === 'REPLICA')
    return existing.dkim;
  try {
    const response = await sesv2Client.send(
      new PutEmailIdentityDkimSigningAttributesCommand({
        EmailIdentity: identity,
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: plan.selector,
          DomainSigningPrivateKey: key.privateKey,
        },
      }),
    );
    await applySettings(existing, request);
    return {
      ...(existing.dkim as SesDkim),
      status: (response.DkimStatus as DkimStatus | undefined) ?? 'PENDING',
    };
  } catch (error) {
    scrubPrivateKey(error, key.privateKey);
    throw toStepError(error, `PutEmailIdentityDkimSigningAttributes ${identity}`);
  }
}

/** The request's tags and configuration set, onto the adopted identity: never silently dropped. */
async function applySettings(existing: SesIdentity, request: IdentityRequest): Promise<void> {
  if (settingsToApply(existing, request).length === 0) return;
  await applyTags(
    identityArn(existing.identity, requireEnv('AWS_ACCOUNT_ID')),
    request.Tags,
    existing.tags,
  );
  if (
    request.ConfigurationSetName !== undefined &&
    request.ConfigurationSetName !== existing.configuration_set_name
  ) {
    await setConfigurationSet(existing.identity, request.ConfigurationSetName);
  }
}

/**
 * What DNS holds at the selector: this key's public key, another, or nothing. SES never reveals
 * the key it holds, so this is the only evidence of which key signs; a look-up that fails is a
 * transient error (retried), not a guess.
 */
async function publishedKeyAt(
  identity: string,
  selector: string,
  key: SigningKey | undefined,
): Promise<PublishedKey> {
  const value = dkimTxtValue(key?.publicKey ?? '');
  const [found] = await probeRecords(
    [{ type: 'TXT', name: `${selector}._domainkey.${identity}`, value, ttl: 0 }],
    { ...probeOptionsFromEnv(), domain: identity },
  );
  switch (found?.status) {
    case 'OK':
      return key === undefined ? 'ANOTHER_KEY' : 'THIS_KEY';
    case 'MISSING':
      return 'NONE';
    case 'ERROR':
      throw new ServiceUnavailableError(
        `Could not look up the DKIM record of selector "${selector}" for ${identity}: ${found.detail ?? 'DNS error'}`,
      );
    default:
      return 'ANOTHER_KEY';
  }
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

/**
 * Why SES refused a DEED replica: it documents only that the parent must be "a verified identity
 * configured with Easy DKIM", not which error says it is not. So a refusal (anything but a
 * transient error) is explained by reading the parent in its Region: missing or not verified is a
 * ReplicaParentNotReadyError (the same request succeeds once the parent is verified); a parent
 * that is ready leaves SES's own error.
 */
async function replicaCreateError(
  error: unknown,
  request: IdentityRequest,
  plan: Extract<DkimPlan, { mode: 'REPLICA' }>,
): Promise<Error> {
  const stepError = createError(error, request);
  if (!(['SesBadRequestError', 'SesNotFoundError'] as string[]).includes(stepError.name)) {
    return stepError;
  }
  const identity = request.EmailIdentity;
  const region = plan.parentRegion;
  let found: Awaited<ReturnType<typeof readReplicaIdentity>>;
  try {
    found = await readReplicaIdentity(region, identity);
  } catch {
    // Not readable from here (a Region outside the stack's ReplicaRegions): SES's words stand.
    return stepError;
  }
  const parent = sesDkimOf(found ?? undefined);
  const replicaOf = parent?.signing_attributes_origin?.startsWith('AWS_SES_') ?? false;
  const where = `in ${region} (${plan.origin})`;
  if (parent === null) {
    return new ReplicaParentNotReadyError(
      `The parent identity ${identity} does not exist ${where}: create and verify it there with Easy DKIM first, then retry (${stepError.message})`,
      { cause: error },
    );
  }
  if (parent.origin !== 'AWS_SES' || replicaOf) {
    return new SesBadRequestError(
      `The parent identity ${identity} ${where} is ${replicaOf ? 'itself a DEED replica' : 'not an Easy DKIM identity'}: DEED replicates only an Easy DKIM parent (${stepError.message})`,
      { cause: error },
    );
  }
  if (parent.status !== 'SUCCESS') {
    return new ReplicaParentNotReadyError(
      `The parent identity ${identity} ${where} is not verified yet (DKIM status ${parent.status ?? 'unknown'}): SES replicates only a verified Easy DKIM identity; retry once it is verified`,
      { cause: error },
    );
  }
  return stepError;
}

/** The DKIM summary of the identity SES created (or holds), for the plan that asked for it. */
function dkimSummary(
  dkim: SesDkim | null,
  plan: DkimPlan,
  key: SigningKey | undefined,
): DkimSummary | null {
  if (plan.mode === 'NONE') return null;
  if (plan.mode === 'REPLICA') {
    // SES reports a replica's SigningAttributesOrigin as AWS_SES_<PARENT_REGION> and its Tokens
    // as the parent's: the parent's CNAMEs verify and sign for it, so it publishes nothing
    // (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html;
    // https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-deed.html).
    return {
      origin: 'AWS_SES',
      tokens: [],
      selector: null,
      status: dkim?.status ?? 'NOT_STARTED',
      current_signing_key_length: dkim?.current_signing_key_length ?? null,
      next_signing_key_length: dkim?.next_signing_key_length ?? null,
      public_key: null,
      parent_region: plan.parentRegion,
    };
  }
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
  parts: Pick<CreatedIdentity, 'adopted' | 'dkim'> & {
    configurationSetName: string | null;
    restart?: VerificationRestart | null;
  },
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
    restart: parts.restart ?? null,
    parts: requestedParts(request),
  };
}

/** The parts beyond DKIM the request asks for, in the steps' vocabulary. */
export function requestedParts(request: IdentityRequest): RequestedParts {
  return {
    mail_from: request.MailFrom
      ? {
          domain: request.MailFrom.Domain,
          behavior_on_mx_failure: request.MailFrom.BehaviorOnMxFailure,
        }
      : null,
    dmarc: request.Dmarc ? { policy: request.Dmarc.Policy, rua: request.Dmarc.Rua ?? null } : null,
    tenant: request.Tenant ? { name: request.Tenant.Name } : null,
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
