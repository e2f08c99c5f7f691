import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import { dkimRecordsFor, toZoneFileLines } from '#shared/dns/records.js';
import { HttpError } from '#shared/http/errors.js';
import { identityTypeOf, normaliseEmailIdentity } from '#shared/request/index.js';
import {
  consoleUrlFor,
  executionPrefixFor,
  type RunStatus,
  runStatusOf,
} from '#shared/runs/execution-names.js';
import { clock } from '#shared/runtime/clock.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import type { SesIdentity, SesVerificationInfo } from '#shared/ses/identity-view.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { CreatedIdentity, DkimDnsRecord, IdentityType } from '#shared/workflow/types.js';

export interface GetIdentityStatusConfig {
  stateMachineArn: string;
  /** TTL shown on the expected records (the one PublishDnsRecords writes). */
  recordTtl?: number;
}

/** The latest run of the workflow for an identity. */
export interface LatestRun {
  id: string;
  execution_arn: string;
  status: RunStatus;
  /** Step Functions' own status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED...). */
  execution_status: string;
  started_at: string;
  stopped_at: string | null;
  console_url: string;
  /** Why it failed: the Fail state's reason code and message. Null unless it failed. */
  reason: { code: string; message: string | null } | null;
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
  /** The workflow's view: from the latest run, or from SES when no run is known. */
  status: RunStatus;
  dkim_status: string | null;
  ses: SesIdentityState | null;
  /** The DNS records SES expects; empty for addresses and for BYODKIM (SES does not return the public key). */
  records: DkimDnsRecord[];
  zone_file: string[];
  latest_run: LatestRun | null;
  checked_at: string;
}

/**
 * What SES and the workflow know about an identity: SES's state, the records it expects and the
 * latest run. Throws ValidationError for a malformed identity, HttpError NOT_FOUND when neither
 * SES nor any run knows it, or an AWS SDK error.
 */
export async function getIdentityStatus(
  rawIdentity: string,
  config: GetIdentityStatusConfig,
): Promise<IdentityStatus> {
  const identity = normalisedIdentity(rawIdentity);
  const [ses, latestRun] = await Promise.all([
    getEmailIdentity(identity),
    findLatestRun(config.stateMachineArn, identity),
  ]);
  if (ses === null && latestRun === null) {
    throw new HttpError('NOT_FOUND', `Neither SES nor any verification run knows ${identity}`);
  }
  const sesState = ses === null ? null : toSesState(ses);
  const records = ses === null ? [] : expectedRecords(ses, config.recordTtl);
  return {
    identity,
    identity_type: identityTypeOf(identity),
    status: latestRun?.status ?? statusFromSes(ses),
    dkim_status: sesState?.dkim?.status ?? null,
    ses: sesState,
    records,
    zone_file: toZoneFileLines(records),
    latest_run: latestRun,
    checked_at: clock.now().toISOString(),
  };
}

function normalisedIdentity(identity: string): string {
  const { value, problems } = normaliseEmailIdentity(identity);
  if (problems.length > 0) {
    throw new ValidationError(problems.map((message) => ({ field: 'identity', message })));
  }
  return value;
}

/**
 * The newest execution named after the identity. ListExecutions returns the newest first, so the
 * first match is the latest run; the pages are read until one matches or none are left.
 */
async function findLatestRun(stateMachineArn: string, identity: string): Promise<LatestRun | null> {
  const prefix = executionPrefixFor(identity);
  let nextToken: string | undefined;
  let match: ExecutionListItem | undefined;
  do {
    const page = await sfnClient.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    match = page.executions?.find((execution) => execution.name?.startsWith(prefix));
    nextToken = page.nextToken;
  } while (!match && nextToken);
  if (!match?.executionArn) return null;

  // The list has no error; only DescribeExecution tells a timed-out run from a failed one.
  const execution = await sfnClient.send(
    new DescribeExecutionCommand({ executionArn: match.executionArn }),
  );
  const executionStatus = execution.status ?? match.status ?? 'RUNNING';
  const failed = executionStatus !== 'RUNNING' && executionStatus !== 'SUCCEEDED';
  return {
    id: execution.name ?? match.name ?? '',
    execution_arn: match.executionArn,
    status: runStatusOf(executionStatus, execution.error),
    execution_status: executionStatus,
    started_at: (execution.startDate ?? match.startDate ?? clock.now()).toISOString(),
    stopped_at: (execution.stopDate ?? match.stopDate)?.toISOString() ?? null,
    console_url: consoleUrlFor(match.executionArn),
    reason: failed
      ? { code: execution.error ?? executionStatus, message: execution.cause ?? null }
      : null,
  };
}

/** Without a run, the status follows SES: verified for sending, DKIM failed, or still pending. */
function statusFromSes(ses: SesIdentity | null): RunStatus {
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
          }
        : null,
    dns: { provider: null, hosted_zone_id: null },
    change: null,
  };
  return dkimRecordsFor(created, ttl === undefined ? {} : { ttl });
}
