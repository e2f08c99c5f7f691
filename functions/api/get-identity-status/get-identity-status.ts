import { dkimRecordsFor, toZoneFileLines } from '#shared/dns/records.js';
import { HttpError } from '#shared/http/errors.js';
import { type Readiness, type RunReadiness, withReplicas } from '#shared/readiness/readiness.js';
import type { IdentityStatus as IdentityStatusName } from '#shared/registry/items.js';
import { getIdentityItem } from '#shared/registry/registry.js';
import { type LatestRun, latestRunOf } from '#shared/registry/views.js';
import { identityTypeOf, normaliseEmailIdentity } from '#shared/request/identity-name.js';
import { clock } from '#shared/runtime/clock.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import type { SesIdentity, SesVerificationInfo } from '#shared/ses/identity-view.js';
import type { ReplicasReadiness } from '#shared/ses/replicas.js';
import {
  ServiceUnavailableError,
  ThrottlingError,
  ValidationError,
} from '#shared/workflow/errors.js';
import type {
  CreatedIdentity,
  DkimDnsRecord,
  IdentityType,
  ProbeResult,
} from '#shared/workflow/types.js';

export interface GetIdentityStatusConfig {
  registryTable: string;
  /** TTL shown on the expected records (the one PublishDnsRecords writes). */
  recordTtl?: number;
}

/** The identity as SES reports it, in the API's snake_case vocabulary. */
export interface SesIdentityState {
  identity_type: string;
  verification_status: string | null;
  verified_for_sending: boolean;
  configuration_set_name: string | null;
  dkim: {
    origin: string | null;
    status: string | null;
    signing_enabled: boolean;
    /** Easy DKIM: the three tokens. */
    tokens: string[];
    /** BYODKIM: the selector (SES reports it in place of tokens). */
    selector: string | null;
    current_signing_key_length: string | null;
    next_signing_key_length: string | null;
  } | null;
  verification_info: SesVerificationInfo | null;
}

/** The `data` of a 200 response. */
export interface IdentityStatus {
  identity: string;
  identity_type: IdentityType;
  /** The workflow's view: the registry's, or SES's for an identity the stack does not manage. */
  status: IdentityStatusName;
  dkim_status: string | null;
  /** SES's live view; null when SES does not know the identity or could not be asked now. */
  ses: SesIdentityState | null;
  /** The DNS records SES needs: those the run derived, or SES's view of them. */
  records: DkimDnsRecord[];
  zone_file: string[];
  /** Our DNS look-up of each record at `checked_at` (a run's look or "check now"). */
  probe: ProbeResult[];
  /**
   * Each part of "ready to send" the request asks for (dkim, mail_from, dmarc, tenant), with its
   * status and records, at the latest run's latest look, and `replicas` (DEED) as the latest run
   * ended; null before either.
   */
  readiness: RunReadiness | null;
  latest_run: LatestRun | null;
  /** True when the stack manages the identity (it has a registry item). */
  managed: boolean;
  updated_at: string | null;
  checked_at: string | null;
}

/**
 * What the stack knows about an identity, from its registry item, with SES's live view beside
 * it. Throws ValidationError for a malformed identity, HttpError NOT_FOUND when neither the
 * registry nor SES knows it, ThrottlingError or ServiceUnavailableError when SES cannot answer
 * and the registry does not know it, or an AWS SDK error.
 */
export async function getIdentityStatus(
  pathIdentity: string,
  config: GetIdentityStatusConfig,
): Promise<IdentityStatus> {
  const identity = normalisedIdentity(pathIdentity);
  const [item, live] = await Promise.all([
    getIdentityItem(config.registryTable, identity),
    liveView(identity),
  ]);
  // Without a registry item only SES can say whether the identity exists at all.
  if (item === undefined && live instanceof Error) throw live;
  const ses = live instanceof Error ? undefined : live;
  if (item === undefined && ses === null) {
    throw new HttpError('NOT_FOUND', `Neither the stack nor SES knows ${identity}`);
  }
  const sesState = ses == null ? null : toSesState(ses);
  const records: DkimDnsRecord[] =
    item?.records_json !== undefined
      ? (JSON.parse(item.records_json) as DkimDnsRecord[])
      : ses == null
        ? []
        : expectedRecords(ses, config.recordTtl);
  return {
    identity,
    identity_type: identityTypeOf(identity),
    status: item?.status ?? statusFromSes(ses ?? null),
    dkim_status: sesState?.dkim?.status ?? item?.dkim_status ?? null,
    ses: sesState,
    records,
    zone_file: toZoneFileLines(records),
    probe: item?.probe_json === undefined ? [] : (JSON.parse(item.probe_json) as ProbeResult[]),
    // The parts at the latest look, and the replicas (DEED) as the latest run ended.
    readiness: withReplicas(
      item?.readiness_json === undefined ? null : (JSON.parse(item.readiness_json) as Readiness),
      item?.replicas_json === undefined
        ? null
        : (JSON.parse(item.replicas_json) as ReplicasReadiness),
    ),
    latest_run: item?.latest_run ? latestRunOf(item.latest_run) : null,
    managed: item !== undefined,
    updated_at: item?.updated_at ?? null,
    checked_at: item?.checked_at ?? null,
  };
}

/**
 * SES's view of the identity now: null when SES does not know it, and the error itself when SES
 * throttled us or failed on its side. A person's GET is not worth a retry storm, and SES's own
 * 5xx is not ours: when the registry knows the identity, its view stands alone then.
 */
async function liveView(
  identity: string,
): Promise<SesIdentity | null | ThrottlingError | ServiceUnavailableError> {
  try {
    return await getEmailIdentity(identity);
  } catch (error) {
    if (error instanceof ThrottlingError || error instanceof ServiceUnavailableError) return error;
    throw error;
  }
}

function normalisedIdentity(identity: string): string {
  // The HTTP API hands the path parameter over decoded.
  const { value, problems } = normaliseEmailIdentity(identity);
  if (problems.length > 0) {
    throw new ValidationError(problems.map((message) => ({ field: 'identity', message })));
  }
  return value;
}

/** Without a run, the status follows SES: verified for sending, DKIM failed, or still pending. */
function statusFromSes(ses: SesIdentity | null): IdentityStatusName {
  if (ses?.verified_for_sending) return 'VERIFIED';
  return ses?.dkim?.status === 'FAILED' || ses?.verification_status === 'FAILED'
    ? 'FAILED'
    : 'PENDING';
}

function toSesState(ses: SesIdentity): SesIdentityState {
  const dkim = ses.dkim;
  return {
    identity_type: ses.identity_type ?? 'UNKNOWN',
    verification_status: ses.verification_status,
    verified_for_sending: ses.verified_for_sending,
    configuration_set_name: ses.configuration_set_name,
    dkim: dkim
      ? {
          // As SES says it: AWS_SES_<REGION> tells a replicated Easy DKIM key apart.
          origin: dkim.signing_attributes_origin,
          status: dkim.status,
          signing_enabled: dkim.signing_enabled,
          tokens: dkim.tokens,
          selector: dkim.selector,
          current_signing_key_length: dkim.current_signing_key_length,
          next_signing_key_length: dkim.next_signing_key_length,
        }
      : null,
    verification_info: ses.verification_info,
  };
}

/**
 * The records SES expects, derived as PublishDnsRecords derives them, from a CreatedIdentity
 * built out of SES's view. BYODKIM yields none: SES never returns the public key.
 */
function expectedRecords(ses: SesIdentity, ttl: number | undefined): DkimDnsRecord[] {
  const identityType: IdentityType = identityTypeOf(ses.identity);
  const dkim = identityType === 'DOMAIN' ? ses.dkim : null;
  const created: CreatedIdentity = {
    identity: ses.identity,
    identity_type: identityType,
    created_at: clock.now().toISOString(),
    adopted: true,
    configuration_set_name: ses.configuration_set_name,
    dkim:
      dkim?.origin != null
        ? {
            origin: dkim.origin,
            tokens: dkim.tokens,
            selector: dkim.selector,
            status: dkim.status ?? 'NOT_STARTED',
            current_signing_key_length: dkim.current_signing_key_length,
            next_signing_key_length: dkim.next_signing_key_length,
            public_key: null,
            signing_hosted_zone: dkim.signing_hosted_zone,
          }
        : null,
    dns: { provider: null, hosted_zone_id: null },
    change: null,
  };
  return dkimRecordsFor(created, ttl === undefined ? {} : { ttl });
}
