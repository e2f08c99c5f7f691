import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mailFromRecordsFor } from '#shared/dns/records.js';
import type { ReadinessPart } from '#shared/readiness/readiness.js';
import type { DkimDnsRecord, PublishedRecords } from '#shared/workflow/types.js';
import {
  type CheckResult,
  checkIdentity,
  type WakeReason,
} from '#steps/check-verification/check-identity.js';
import { nextPartsLookSeconds } from '#steps/check-verification/schedule.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { cnameRecords, easyDkimIdentity, firstCheck, probeAll } from '#test/support/fixtures.js';

// CheckVerification for an identity with a custom MAIL FROM domain.
const created = new Date('2026-11-01T00:00:00.000Z');
const hours = (h: number) => new Date(created.getTime() + h * 3600_000);
const mailFrom = {
  domain: 'bounce.example.com',
  behavior_on_mx_failure: 'USE_DEFAULT_VALUE',
} as const;
const records: DkimDnsRecord[] = [...cnameRecords(), ...mailFromRecordsFor(mailFrom, 'us-east-1')];
const dns: PublishedRecords = {
  provider: 'route53',
  provider_reason: 'a zone matched',
  hosted_zone_id: 'Z1',
  hosted_zone_name: 'example.com',
  written: true,
  change_id: 'C1',
  records,
  zone_file: [],
  dmarc: null,
};
const sweeper: WakeReason = { woken_by: 'sweeper', ses_status: 'SUCCESS' };
const safetyNet: WakeReason = { Error: 'States.Timeout' };

describe('checkIdentity with a MAIL FROM domain', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => {
    ses.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(hours(1));
  });
  afterEach(() => vi.useRealTimers());

  const input = (previous: CheckResult, wake: WakeReason) => ({
    identity: {
      ...easyDkimIdentity(created),
      parts: { mail_from: mailFrom, dmarc: null, tenant: null },
    },
    dns,
    previous,
    execution_id: 'run-1',
    wake,
    sending: { mail_from: { ...mailFrom, region: 'us-east-1' }, tenant: null },
  });
  const sesSays = (mailFromStatus: string) =>
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
      MailFromAttributes: {
        MailFromDomain: 'bounce.example.com',
        MailFromDomainStatus: mailFromStatus as 'PENDING',
        BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      },
    });

  it('stays PENDING while SES has DKIM but not the MAIL FROM domain, and looks again in 5 minutes on its own', async () => {
    sesSays('PENDING');
    const result = await checkIdentity(input(firstCheck, sweeper), async (r) => probeAll(r, 'OK'));
    expect(result).toMatchObject({
      outcome: 'PENDING',
      dkim_status: 'SUCCESS',
      next_check_seconds: 300,
    });
    expect(result.readiness?.dkim?.status).toBe('READY');
    expect(result.readiness?.mail_from).toMatchObject({ status: 'PENDING', ses_status: 'PENDING' });
  });

  it('probes first on its own look and asks SES only when the MX and SPF records are right', async () => {
    sesSays('SUCCESS');
    const previous = (await checkIdentity(input(firstCheck, sweeper), async (r) =>
      probeAll(r, 'OK'),
    )) as CheckResult;
    ses.reset();
    sesSays('SUCCESS');
    const pending: CheckResult = {
      ...previous,
      outcome: 'PENDING',
      next_check_seconds: 300,
      readiness: {
        ...previous.readiness,
        mail_from: {
          ...(previous.readiness?.mail_from as ReadinessPart),
          status: 'PENDING',
          ses_status: 'PENDING',
        },
      },
    };
    const missing = await checkIdentity(input(pending, safetyNet), async (r) =>
      probeAll(r, 'MISSING'),
    );
    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    expect(missing).toMatchObject({ outcome: 'PENDING', next_check_seconds: 600 });
    const found = await checkIdentity(input(missing, safetyNet), async (r) => probeAll(r, 'OK'));
    expect(ses).toHaveReceivedCommandTimes(GetEmailIdentityCommand, 1);
    expect(found.outcome).toBe('VERIFIED');
  });

  it('fails with MAIL_FROM_FAILED, retryable, naming the MX record to add, when SES says FAILED', async () => {
    sesSays('FAILED');
    const result = await checkIdentity(input(firstCheck, sweeper), async (r) => probeAll(r, 'OK'));
    expect(result.outcome).toBe('FAILED');
    expect(result.failure?.reason).toMatchObject({ code: 'MAIL_FROM_FAILED', retryable: true });
    expect(result.failure?.reason.message).toContain('feedback-smtp.us-east-1.amazonses.com');
    expectValidDetail('Email Identity Verification Failed', result.failure);
  });

  it('times out at the deadline naming the parts that were not ready', async () => {
    sesSays('PENDING');
    vi.setSystemTime(hours(72));
    const result = await checkIdentity(input(firstCheck, safetyNet), async (r) =>
      probeAll(r, 'OK'),
    );
    expect(result.outcome).toBe('TIMED_OUT');
    expect(result.failure?.reason.message).toContain('did not become ready: mail_from');
  });
});

describe('nextPartsLookSeconds', () => {
  it.each([
    [null, 300],
    [300, 600],
    [1800, 3600],
    [3600, 3600],
    [86_400, 3600],
  ])('after a look of %s seconds, looks again in %s', (previous, next) => {
    expect(nextPartsLookSeconds(10 * 3600, previous)).toBe(next);
  });

  it('never looks past the deadline', () => {
    expect(nextPartsLookSeconds(120, 1800)).toBe(120);
  });
});
