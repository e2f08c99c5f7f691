import {
  GetEmailIdentityCommand,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SesNotFoundError, ThrottlingError } from '#shared/workflow/errors.js';
import type { DkimDnsRecord, PublishedRecords } from '#shared/workflow/types.js';
import { checkIdentity, type WakeReason } from '#steps/check-verification/check-identity.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import {
  addressIdentity,
  cnameRecords,
  easyDkimIdentity,
  firstCheck,
  probeAll,
} from '#test/support/fixtures.js';

const created = new Date('2026-11-01T00:00:00.000Z');
const hours = (h: number) => new Date(created.getTime() + h * 3600_000);
const records = cnameRecords();
const published = (list: DkimDnsRecord[]): PublishedRecords => ({
  provider: 'route53',
  provider_reason: 'a zone matched',
  hosted_zone_id: 'Z1',
  hosted_zone_name: 'example.com',
  written: true,
  change_id: 'C1',
  records: list,
  zone_file: [],
});
const safetyNet: WakeReason = { Error: 'States.Timeout', Cause: 'Task timed out' };
const sweeper: WakeReason = { woken_by: 'sweeper', ses_status: 'SUCCESS' };

describe('checkIdentity', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(() => {
    ses.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(hours(1));
  });
  afterEach(() => vi.useRealTimers());

  // Most looks here follow a wake-up; the first look has a test of its own.
  const domainInput = (previous = firstCheck, wake: WakeReason = sweeper) => ({
    identity: easyDkimIdentity(created),
    dns: published(records),
    previous,
    execution_id: 'run-1',
    wake,
  });
  const lookedOnce = { ...firstCheck, checks: 1 };

  it('returns VERIFIED when DKIM is SUCCESS and the domain is verified for sending', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    const prober = vi.fn();

    const result = await checkIdentity(domainInput(), prober);

    expect(result).toMatchObject({
      outcome: 'VERIFIED',
      dkim_status: 'SUCCESS',
      checks: 1,
      elapsed_seconds: 3600,
    });
    expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
      EmailIdentity: 'example.com',
    });
    expect(prober).not.toHaveBeenCalled();
  });

  it('stays PENDING when DKIM is SUCCESS but SES does not yet allow sending', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .resolves({ VerifiedForSendingStatus: false, DkimAttributes: { Status: 'SUCCESS' } });
    const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'OK'));
    expect(result.outcome).toBe('PENDING');
  });

  it.each(['PENDING', 'TEMPORARY_FAILURE', 'NOT_STARTED'])(
    'returns PENDING, to be woken or to look again in 24 hours, while SES says %s',
    async (status) => {
      ses.on(GetEmailIdentityCommand).resolves({
        VerifiedForSendingStatus: false,
        DkimAttributes: { Status: status as 'PENDING' },
      });
      const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'MISSING'));
      expect(result).toMatchObject({
        outcome: 'PENDING',
        dkim_status: status,
        next_check_seconds: 24 * 3600,
        failure: null,
      });
    },
  );

  it('does not ask SES on the first look: SES has just answered the creation', async () => {
    const prober = vi.fn(async (r: DkimDnsRecord[]) => probeAll(r, 'OK'));

    const result = await checkIdentity(domainInput(firstCheck, null), prober);

    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    expect(result).toMatchObject({
      outcome: 'PENDING',
      dkim_status: 'PENDING',
      checks: 1,
      next_check_seconds: 24 * 3600,
    });
    expect(result.probe).toEqual(probeAll(records, 'OK'));
  });

  it('asks SES on the first look at an adopted identity SES had verified', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    const identity = easyDkimIdentity(created);
    const adopted = {
      ...identity,
      adopted: true,
      dkim: identity.dkim && { ...identity.dkim, status: 'SUCCESS' as const },
    };

    const result = await checkIdentity(
      { ...domainInput(firstCheck, null), identity: adopted },
      vi.fn(),
    );

    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(result.outcome).toBe('VERIFIED');
  });

  it('asks SES on the first look after a change that kept DKIM signing (SUCCESS)', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    const identity = easyDkimIdentity(created);
    const changed = {
      ...identity,
      adopted: false,
      dkim: identity.dkim && { ...identity.dkim, status: 'SUCCESS' as const },
    };

    const result = await checkIdentity(
      { ...domainInput(firstCheck, null), identity: changed },
      vi.fn(),
    );

    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(result.outcome).toBe('VERIFIED');
  });

  it('asks SES when the sweeper woke the run', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    const result = await checkIdentity(domainInput(lookedOnce, sweeper), vi.fn());
    expect(result).toMatchObject({ outcome: 'VERIFIED', checks: 2 });
  });

  it('does not ask SES on a safety-net look while a record is still missing', async () => {
    const prober = vi.fn(async (r: DkimDnsRecord[]) => probeAll(r, 'MISSING'));

    const result = await checkIdentity(domainInput(lookedOnce, safetyNet), prober);

    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    expect(prober).toHaveBeenCalledTimes(1);
    expect(result).toMatchObject({ outcome: 'PENDING', checks: 2, next_check_seconds: 24 * 3600 });
  });

  it('asks SES on a safety-net look once every record is right', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });
    const prober = vi.fn(async (r: DkimDnsRecord[]) => probeAll(r, 'OK'));

    const result = await checkIdentity(domainInput(lookedOnce, safetyNet), prober);

    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(prober).toHaveBeenCalledTimes(1);
    expect(result.outcome).toBe('VERIFIED');
  });

  it('asks SES at the deadline, whatever the records', async () => {
    vi.setSystemTime(hours(72));
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'PENDING' } });

    const result = await checkIdentity(domainInput(lookedOnce, safetyNet), async (r) =>
      probeAll(r, 'MISSING'),
    );

    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(result.outcome).toBe('TIMED_OUT');
  });

  it('returns FAILED with SES VerificationInfo, the probe and what to fix when SES says FAILED', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      DkimAttributes: { Status: 'FAILED' },
      VerificationInfo: {
        ErrorType: 'HOST_NOT_FOUND',
        LastCheckedTimestamp: hours(0.5),
      },
    });
    const probe = probeAll(records, 'MISSING');

    const result = await checkIdentity(domainInput(), async () => probe);

    expect(result.outcome).toBe('FAILED');
    expect(result.failure).toMatchObject({
      identity: 'example.com',
      execution_id: 'run-1',
      // The same request may succeed once the records are right.
      reason: { code: 'DKIM_FAILED', retryable: true },
      verification_info: {
        error_type: 'HOST_NOT_FOUND',
        last_checked_at: hours(0.5).toISOString(),
      },
      diagnosis: probe,
    });
    expect(result.failure?.reason.message).toContain('SES found no DNS record');
    expect(result.failure?.reason.message).toContain(
      `Missing: CNAME ${records[0]?.name}, CNAME ${records[1]?.name}`,
    );
    expectValidDetail('Email Identity Verification Failed', result.failure);
  });

  it('returns TIMED_OUT once 72 hours have passed since a domain was created', async () => {
    vi.setSystemTime(hours(72));
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'PENDING' } });
    const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'MISSING'));
    expect(result.outcome).toBe('TIMED_OUT');
    expect(result.failure?.reason).toMatchObject({ code: 'TIMED_OUT', retryable: true });
    expectValidDetail('Email Identity Verification Failed', result.failure);
  });

  it('reports TIMED_OUT, not DKIM_FAILED, when SES gives up at the 72-hour deadline', async () => {
    vi.setSystemTime(hours(72));
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'FAILED' } });
    const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'MISSING'));
    expect(result.failure?.reason.code).toBe('TIMED_OUT');
  });

  it('holds the deadline however long the look itself took', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'PENDING' } });
    vi.setSystemTime(hours(71.99));
    // The probe is slow: by the time it answers the deadline has passed.
    const result = await checkIdentity(domainInput(), async (r) => {
      vi.setSystemTime(hours(72.01));
      return probeAll(r, 'MISSING');
    });
    expect(result.outcome).toBe('TIMED_OUT');
  });

  it('never schedules the next look past the deadline', async () => {
    vi.setSystemTime(new Date(hours(72).getTime() - 90_000));
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'PENDING' } });
    const previous = {
      ...firstCheck,
      checks: 40,
      next_check_seconds: 3600,
      probe: probeAll(records, 'MISSING'),
    };
    const result = await checkIdentity(domainInput(previous), async (r) => probeAll(r, 'MISSING'));
    expect(result).toMatchObject({ outcome: 'PENDING', next_check_seconds: 90 });
  });

  it('returns VERIFIED for an address once SES says it is verified for sending', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true });
    const result = await checkIdentity(
      {
        identity: addressIdentity(created),
        dns: published([]),
        previous: firstCheck,
        execution_id: 'run-2',
        wake: sweeper,
      },
      vi.fn(),
    );
    expect(result.outcome).toBe('VERIFIED');
  });

  it('times an address out after 24 hours, when the link SES mailed expires', async () => {
    vi.setSystemTime(hours(24));
    ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: false });
    const result = await checkIdentity(
      {
        identity: addressIdentity(created),
        dns: published([]),
        previous: firstCheck,
        execution_id: 'run-2',
        wake: sweeper,
      },
      vi.fn(),
    );
    expect(result.outcome).toBe('TIMED_OUT');
    expect(result.failure?.reason.message).toContain('24 hours');
  });

  it('lets a throttled GetEmailIdentity fail the look, for the SES request queue to try again', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    await expect(
      checkIdentity(domainInput(), async (r) => probeAll(r, 'OK')),
    ).rejects.toBeInstanceOf(ThrottlingError);
  });

  it('throws SesNotFoundError when the identity was deleted during the run', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'Identity not found', $metadata: {} }));
    await expect(checkIdentity(domainInput(), vi.fn())).rejects.toBeInstanceOf(SesNotFoundError);
  });
});
