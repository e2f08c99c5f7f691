import { CreateEmailIdentityCommand, type DkimAttributes } from '@aws-sdk/client-sesv2';
import { awsErrorName, sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2ClientFor } from '#shared/aws/clients/sesv2.js';
import { RETRYABLE_ERROR_NAMES } from '#shared/workflow/errors.js';
import { sesDkimOf } from './identity-view.js';
import type { ReplicaStatus } from './replicas.js';

/**
 * One DEED replica, as the CreateReplica and CheckReplica steps hand it to each other inside the
 * state machine's per-Region loop. `region`, `status` and `detail` are what the events report.
 */
export interface ReplicaCheck {
  region: string;
  status: ReplicaStatus;
  detail: string;
  /** When SES started verifying the replica (its creation by this run, or its adoption). */
  created_at: string | null;
  /** Looks at the replica so far (creation included). */
  checks: number;
  /** Seconds the loop waits before the next look (PENDING only; 0 otherwise). */
  next_check_seconds: number;
  /** SES's DKIM status of the replica, as last seen. */
  dkim_status: string | null;
}

/** SES keeps looking for DKIM records for 72 hours; a replica gets as long. */
export const REPLICA_DEADLINE_SECONDS = 72 * 3600;
const FIRST_LOOK_SECONDS = 60;
const LONGEST_WAIT_SECONDS = 3600;

/**
 * The wait before the next look: a minute (SES's first look at a new identity), then doubling
 * up to an hour, never past the deadline. A replica verifies through records that already
 * verified the parent, so it usually needs one or two looks; the SES sweeper reads only the
 * stack's own Region, so these looks are the loop's own.
 */
export function nextReplicaWaitSeconds(checks: number, secondsLeft: number): number {
  const wait = Math.min(LONGEST_WAIT_SECONDS, FIRST_LOOK_SECONDS * 2 ** Math.max(0, checks - 1));
  return Math.max(1, Math.min(wait, Math.ceil(secondsLeft)));
}

/** What a replica's DKIM attributes (CreateEmailIdentity's or GetEmailIdentity's) mean. */
export function replicaCheckOf(
  region: string,
  attributes: DkimAttributes | undefined,
  context: { createdAt: Date; checks: number; now: Date },
): ReplicaCheck {
  const dkim = sesDkimOf(attributes);
  const status = dkim?.status ?? null;
  const base = {
    region,
    created_at: context.createdAt.toISOString(),
    checks: context.checks,
    dkim_status: status,
  };
  if (status === 'SUCCESS') {
    return {
      ...base,
      status: 'READY',
      detail: `Verified in ${region}: signs with the parent identity's Easy DKIM keys.`,
      next_check_seconds: 0,
    };
  }
  if (status === 'FAILED') {
    return {
      ...base,
      status: 'FAILED',
      detail: `SES in ${region} could not verify the replica (DKIM status FAILED): it checks the parent's CNAME records, which must still be in DNS.`,
      next_check_seconds: 0,
    };
  }
  const elapsed = (context.now.getTime() - context.createdAt.getTime()) / 1000;
  const left = REPLICA_DEADLINE_SECONDS - elapsed;
  if (left <= 0) {
    return {
      ...base,
      status: 'FAILED',
      detail: `SES in ${region} did not verify the replica within 72 hours (DKIM status ${status ?? 'unknown'}).`,
      next_check_seconds: 0,
    };
  }
  return {
    ...base,
    status: 'PENDING',
    detail: `Created in ${region}; SES has not verified it yet (DKIM status ${status ?? 'unknown'}).`,
    next_check_seconds: nextReplicaWaitSeconds(context.checks, left),
  };
}

/** A replica that cannot be made or verified: FAILED, saying which Region and why. */
export function failedReplica(
  region: string,
  detail: string,
  context: { createdAt: Date | null; checks: number },
): ReplicaCheck {
  return {
    region,
    status: 'FAILED',
    detail,
    created_at: context.createdAt?.toISOString() ?? null,
    checks: context.checks,
    next_check_seconds: 0,
    dkim_status: null,
  };
}

/**
 * An SES error in a replica Region: retryable ones (throttling, a 5xx) are thrown as the step
 * errors the state machine retries, with the Region in the message (SES's rates are per Region:
 * one Region's throttling says nothing of another's); any other is returned as words for a
 * FAILED replica.
 */
export function replicaErrorDetail(error: unknown, region: string, call: string): string {
  const stepError = toStepError(error, `${call} in ${region}`);
  if ((RETRYABLE_ERROR_NAMES as readonly string[]).includes(stepError.name)) throw stepError;
  const name = sesErrorName(error) ?? awsErrorName(error) ?? 'Error';
  const message = error instanceof Error && error.message !== '' ? error.message : 'no message';
  const hint =
    name === 'AccessDeniedException' || name === 'AccessDenied'
      ? ' The stack may create replicas only in the Regions of its ReplicaRegions parameter.'
      : '';
  return `SES in ${region} refused ${call}: ${name}: ${message}.${hint}`.slice(0, 1000);
}

/** CreateEmailIdentity in `region`, replicating the parent of `origin` (`AWS_SES_US_EAST_1`). */
export async function createReplicaIdentity(
  region: string,
  identity: string,
  origin: string,
): Promise<DkimAttributes | undefined> {
  const response = await sesv2ClientFor(region).send(
    new CreateEmailIdentityCommand({
      EmailIdentity: identity,
      DkimSigningAttributes: { DomainSigningAttributesOrigin: origin as never },
    }),
  );
  return response.DkimAttributes;
}

// Re-exported: CreateIdentity reads a DEED parent through the same call, without this module.
export { readReplicaIdentity } from './identity-in-region.js';
