import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { explainSesErrorType, summariseProbe } from '#shared/dns/diagnose.js';
import { isReady, partsIn, type Readiness, readinessOf } from '#shared/readiness/readiness.js';
import { clock } from '#shared/runtime/clock.js';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import type { SesIdentity } from '#shared/ses/identity-view.js';
import { SesNotFoundError } from '#shared/workflow/errors.js';
import {
  type FailureDetail,
  failureDetail,
  sendingAfterFailure,
  type VerificationInfo,
} from '#shared/workflow/failure.js';
import type {
  CheckOutcome,
  CreatedIdentity,
  DkimDnsRecord,
  DkimStatus,
  DkimSummary,
  ProbeResult,
  PublishedRecords,
  SendingSetup,
} from '#shared/workflow/types.js';
import { DEADLINE_SECONDS, nextLookSeconds, nextPartsLookSeconds } from './schedule.js';

/** What CheckVerification returns; the state machine passes it back as `previous` next time. */
export interface CheckResult {
  /** RECORDS_READY: before a DKIM switch, every new record is in DNS as expected. */
  outcome: CheckOutcome | 'RECORDS_READY';
  dkim_status: DkimStatus | null;
  dkim: DkimSummary | null;
  verified_for_sending: boolean;
  checks: number;
  checked_at: string | null;
  deadline: string | null;
  next_check_seconds: number;
  elapsed_seconds: number;
  probe: ProbeResult[];
  verification_info: VerificationInfo | null;
  failure: FailureDetail | null;
  /** Each requested part of "ready to send" (null before the first look). */
  readiness: Readiness | null;
}

/** How the run came to look: nothing yet (its first look), a waker, or its own timer. */
export type WakeReason =
  | null
  | { woken_by: 'sweeper' | 'check_now'; ses_status: string | null }
  /** AwaitVerification timed out: a safety-net look, or the deadline. */
  | { Error: string; Cause?: string };

export interface CheckInput {
  identity: CreatedIdentity;
  dns: PublishedRecords;
  previous: CheckResult;
  execution_id: string | null;
  wake: WakeReason;
  /**
   * True for a DKIM change whose new records are published before SES is switched: the look is
   * our DNS probe alone (SES has nothing to say about records it was not told of yet), READY
   * once every record is right.
   */
  before_switch?: boolean;
  /** How the domain signed before a DKIM change (null for a creation). */
  signing_before?: SigningSnapshot | null;
  /** What ConfigureSending did (MAIL FROM, tenant); null when the request asks for neither. */
  sending?: SendingSetup | null;
}

export type Prober = (records: DkimDnsRecord[]) => Promise<ProbeResult[]>;

/**
 * One look at the identity, then a decision: VERIFIED, FAILED, TIMED_OUT, or PENDING with the
 * seconds until the run's next look of its own (a safety net: the sweeper wakes it as soon as
 * SES's view changes). SES is asked when something woke the run, at the deadline, and on a
 * safety-net look only when our probe finds every record right; the first look trusts SES's
 * answer to the creation or change when it is PENDING. So a domain whose records never come
 * costs SES two calls in 72 hours: its creation and the deadline. Time is read after the calls
 * and compared with an absolute deadline from the identity's creation, so slow calls never stretch it.
 */
export async function checkIdentity(input: CheckInput, probe: Prober): Promise<CheckResult> {
  if (input.before_switch === true) return checkNewRecords(input, probe);
  const { identity, previous } = input;
  const records = input.dns.records;
  const checks = previous.checks + 1;
  const isDomain = identity.identity_type === 'DOMAIN';
  const createdAt = new Date(identity.created_at);
  const deadline = new Date(createdAt.getTime() + DEADLINE_SECONDS[identity.identity_type] * 1000);
  const atDeadline = clock.now() >= deadline;
  const safetyNet = input.wake !== null && 'Error' in input.wake && !atDeadline;

  // A safety-net look probes first: SES is worth a call only once the records are right.
  let probeResults: ProbeResult[] =
    safetyNet && isDomain && records.length > 0 ? await probe(records) : [];
  // The first look follows SES's own answer to the creation or the change: PENDING needs no
  // second opinion. SUCCESS does (an adopted identity SES had verified, or a change that kept
  // DKIM signing, such as a new key length): whether SES verified the identity for sending is
  // not in that answer, and the sweeper wakes nobody for a status that never changes.
  const firstLook = input.wake === null;
  const askSes = firstLook
    ? identity.dkim?.status === 'SUCCESS'
    : !safetyNet ||
      (isDomain && probeResults.length > 0 && probeResults.every(isOk)) ||
      // Nothing of ours to probe (a DEED replica: its parent's records serve it): SES is the
      // only witness, so a safety-net look asks it.
      (isDomain && records.length === 0);

  let ses: SesIdentity | null | undefined;
  if (askSes) {
    ses = await getEmailIdentity(identity.identity);
    if (ses === null) {
      throw new SesNotFoundError(
        `${identity.identity} is no longer an SES identity in this account and Region: it was deleted during the run`,
      );
    }
  }

  const dkimStatus = ses?.dkim?.status ?? previous.dkim_status ?? identity.dkim?.status ?? null;
  const verifiedForSending = ses
    ? ses.verified_for_sending === true
    : previous.verified_for_sending;
  // SES verified the identity itself: what the sweeper's ListEmailIdentities can see change.
  const identityVerified = isDomain
    ? verifiedForSending && dkimStatus === 'SUCCESS'
    : verifiedForSending;
  const verificationInfo = ses ? verificationInfoOf(ses) : previous.verification_info;
  // Parts beyond DKIM that only DNS shows (DMARC) or whose records are worth a diagnosis.
  const otherRecords = records.some((record) => (record.part ?? 'dkim') !== 'dkim');
  if (
    isDomain &&
    (!identityVerified || otherRecords) &&
    records.length > 0 &&
    probeResults.length === 0
  ) {
    probeResults = await probe(records);
  }
  const parts = identity.parts ?? null;
  // GetEmailIdentity's MailFromAttributes when SES was asked; else what the last look saw.
  const mailFromStatus =
    parts?.mail_from == null
      ? null
      : ses
        ? (ses.mail_from?.status ?? 'PENDING')
        : ((previous.readiness?.mail_from?.ses_status as string | null | undefined) ?? 'PENDING');
  const readiness = readinessOf({
    identity_type: identity.identity_type,
    dkim_status: dkimStatus,
    verified_for_sending: verifiedForSending,
    mail_from_status: mailFromStatus,
    parts,
    sending: input.sending ?? null,
    dns: input.dns,
    probe: probeResults,
  });
  const verified = identityVerified && isReady(readiness);

  const now = clock.now();
  const base = {
    dkim_status: dkimStatus,
    // The DKIM summary as of this check: CreateIdentity's copy has the status at creation.
    dkim: identity.dkim && dkimStatus ? { ...identity.dkim, status: dkimStatus } : identity.dkim,
    verified_for_sending: verifiedForSending,
    checks,
    checked_at: now.toISOString(),
    deadline: deadline.toISOString(),
    elapsed_seconds: Math.max(0, Math.round((now.getTime() - createdAt.getTime()) / 1000)),
    probe: probeResults,
    verification_info: verificationInfo,
    readiness,
  };
  const failure = (
    code: 'DKIM_FAILED' | 'MAIL_FROM_FAILED' | 'TIMED_OUT',
    message: string,
  ): CheckResult => ({
    ...base,
    outcome: code === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED',
    next_check_seconds: 0,
    failure: failureDetail({
      identity: identity.identity,
      identity_type: identity.identity_type,
      execution_id: input.execution_id,
      // Both are for the same request to try again once the records (or the link) are right.
      reason: { code, message, retryable: true },
      verification_info: verificationInfo,
      records,
      diagnosis: probeResults,
      change: identity.change,
      ...sendingAfterFailure({
        identity: identity.identity,
        switched: identity.change === null ? null : identity.change.switched_at !== null,
        switchedAt: identity.change?.switched_at ?? null,
        verifiedBefore: input.signing_before?.verified_for_sending ?? null,
        verifiedNow: verifiedForSending,
      }),
      readiness,
    }),
  });

  if (verified) return { ...base, outcome: 'VERIFIED', next_check_seconds: 0, failure: null };
  // At the deadline SES gives up too (FAILED after 72 hours): that is a time-out, not a rejection.
  const secondsToDeadline = (deadline.getTime() - now.getTime()) / 1000;
  if (secondsToDeadline <= 0) {
    return failure(
      'TIMED_OUT',
      timedOutMessage(identity, probeResults, readiness, identityVerified),
    );
  }
  if (isDomain && dkimStatus === 'FAILED') {
    return failure('DKIM_FAILED', dkimFailedMessage(verificationInfo, probeResults));
  }
  if (readiness.mail_from?.status === 'FAILED') {
    return failure('MAIL_FROM_FAILED', readiness.mail_from.detail);
  }
  return {
    ...base,
    outcome: 'PENDING',
    // Once SES has verified the identity, the sweeper sees nothing more change (ListEmailIdentities
    // shows no MAIL FROM status, and DNS is ours to look at): the run looks on its own, sooner.
    next_check_seconds: identityVerified
      ? nextPartsLookSeconds(secondsToDeadline, previousPartsLook(previous))
      : nextLookSeconds(secondsToDeadline),
    failure: null,
  };
}

/** The interval of the previous look when it too waited on parts beyond the identity, else null. */
function previousPartsLook(previous: CheckResult): number | null {
  const dkim = previous.readiness?.dkim;
  const wasVerified = dkim ? dkim.status === 'READY' : previous.verified_for_sending;
  return previous.outcome === 'PENDING' && wasVerified && previous.readiness !== null
    ? previous.next_check_seconds
    : null;
}

const isOk = (result: ProbeResult) => result.status === 'OK';

/**
 * Before a DKIM switch: is every new record in DNS, as our probe sees it at the domain's
 * authoritative servers? SES is not asked (it still signs as before and knows nothing of the
 * new records). The deadline and the diagnosis are a creation's: 72 hours from the change
 * request, every record with what was found.
 */
async function checkNewRecords(input: CheckInput, probe: Prober): Promise<CheckResult> {
  const { identity, previous } = input;
  const records = input.dns.records;
  const createdAt = new Date(identity.created_at);
  const deadline = new Date(createdAt.getTime() + DEADLINE_SECONDS.DOMAIN * 1000);
  const probeResults = await probe(records);
  const now = clock.now();
  const base = {
    dkim_status: previous.dkim_status,
    dkim: identity.dkim,
    verified_for_sending: input.signing_before?.verified_for_sending ?? false,
    checks: previous.checks + 1,
    checked_at: now.toISOString(),
    deadline: deadline.toISOString(),
    elapsed_seconds: Math.max(0, Math.round((now.getTime() - createdAt.getTime()) / 1000)),
    probe: probeResults,
    verification_info: previous.verification_info,
    // Before the switch SES has nothing new to say: the parts stand as the last look left them.
    readiness: previous.readiness ?? null,
  };
  if (records.length > 0 && probeResults.every(isOk)) {
    return { ...base, outcome: 'RECORDS_READY', next_check_seconds: 0, failure: null };
  }
  const secondsToDeadline = (deadline.getTime() - now.getTime()) / 1000;
  if (secondsToDeadline > 0) {
    return {
      ...base,
      outcome: 'PENDING',
      next_check_seconds: nextLookSeconds(secondsToDeadline),
      failure: null,
    };
  }
  return {
    ...base,
    outcome: 'TIMED_OUT',
    next_check_seconds: 0,
    failure: failureDetail({
      identity: identity.identity,
      identity_type: identity.identity_type,
      execution_id: input.execution_id,
      reason: {
        code: 'TIMED_OUT',
        message: [
          `The new DKIM records of ${identity.identity} were not in DNS within 72 hours of the change request, so SES was not switched.`,
          summariseProbe(probeResults),
        ]
          .filter(Boolean)
          .join(' '),
        retryable: true,
      },
      verification_info: previous.verification_info,
      records,
      diagnosis: probeResults,
      change: identity.change,
      ...sendingAfterFailure({
        identity: identity.identity,
        switched: false,
        verifiedBefore: input.signing_before?.verified_for_sending ?? null,
        verifiedNow: null,
      }),
    }),
  };
}

/** SES's VerificationInfo as the failure event carries it (without the SOA record). */
function verificationInfoOf(ses: SesIdentity): VerificationInfo | null {
  if (ses.verification_info === null) return null;
  const { error_type, last_checked_at, last_success_at } = ses.verification_info;
  return { error_type, last_checked_at, last_success_at };
}

function dkimFailedMessage(info: VerificationInfo | null, probe: ProbeResult[]): string {
  return [
    'SES stopped looking for the DKIM records and marked DKIM as FAILED.',
    explainSesErrorType(info?.error_type),
    summariseProbe(probe),
    'Fix the records, then start a new run (repeat the request with a new Idempotency-Key header).',
  ]
    .filter(Boolean)
    .join(' ');
}

function timedOutMessage(
  identity: CreatedIdentity,
  probe: ProbeResult[],
  readiness: Readiness,
  identityVerified: boolean,
): string {
  if (identityVerified) {
    const pending = partsIn(readiness, 'PENDING');
    return [
      `SES verified ${identity.identity}, but within the deadline these parts of "ready to send" did not become ready: ${pending.join(', ')}.`,
      ...pending.map((name) => readiness[name]?.detail ?? ''),
      summariseProbe(probe),
    ]
      .filter(Boolean)
      .join(' ');
  }
  if (identity.identity_type === 'EMAIL_ADDRESS') {
    return `Nobody followed the verification link SES mailed to ${identity.identity} within 24 hours, when the link expires. Start a new run (repeat the request with a new Idempotency-Key header) to send a new link.`;
  }
  return [
    `SES did not verify DKIM for ${identity.identity} within 72 hours of its creation.`,
    summariseProbe(probe),
  ]
    .filter(Boolean)
    .join(' ');
}
