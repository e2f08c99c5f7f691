import {
  GetEmailIdentityCommand,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SesNotFoundError } from '#shared/workflow/errors.js';
import { checkIdentity } from '#steps/check-verification/check-identity.js';
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

describe('checkIdentity', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(() => {
    ses.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(hours(1));
  });
  afterEach(() => vi.useRealTimers());

  const domainInput = (previous = firstCheck) => ({
    identity: easyDkimIdentity(created),
    records,
    previous,
    execution_id: 'run-1',
  });

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
    'returns PENDING with the next wait while SES says %s',
    async (status) => {
      ses.on(GetEmailIdentityCommand).resolves({
        VerifiedForSendingStatus: false,
        DkimAttributes: { Status: status as 'PENDING' },
      });
      const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'MISSING'));
      expect(result).toMatchObject({
        outcome: 'PENDING',
        dkim_status: status,
        next_check_seconds: 120,
        failure: null,
      });
    },
  );

  it('checks every minute while every record is right, because SES can flip at any moment', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ DkimAttributes: { Status: 'PENDING' } });
    const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'OK'));
    expect(result.next_check_seconds).toBe(60);
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
      reason: { code: 'DKIM_FAILED' },
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
    expect(result.failure?.reason.code).toBe('TIMED_OUT');
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

  it('never schedules the next check past the deadline', async () => {
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
        records: [],
        previous: firstCheck,
        execution_id: 'run-2',
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
        records: [],
        previous: firstCheck,
        execution_id: 'run-2',
      },
      vi.fn(),
    );
    expect(result.outcome).toBe('TIMED_OUT');
    expect(result.failure?.reason.message).toContain('24 hours');
  });

  it('treats a throttled GetEmailIdentity as a skipped look, not a failure', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    const result = await checkIdentity(domainInput(), async (r) => probeAll(r, 'OK'));
    expect(result).toMatchObject({ outcome: 'PENDING', checks: 1 });
  });

  it('throws SesNotFoundError when the identity was deleted during the run', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'Identity not found', $metadata: {} }));
    await expect(checkIdentity(domainInput(), vi.fn())).rejects.toBeInstanceOf(SesNotFoundError);
  });
});
