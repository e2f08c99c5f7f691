import {
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  NotFoundException,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its configuration, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  process.env.DNS_RECORD_TTL = '600';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler } from '#api/get-identity-status/handler.js';
import type { RegistryItem } from '#shared/registry/items.js';
import type { DkimDnsRecord, ProbeResult } from '#shared/workflow/types.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  pendingRun,
  putRegistryItem,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, getEvent, lambdaContext, sdkError } from './support.js';

const STARTED_AT = new Date('2026-01-15T09:30:01.000Z');
const CHECKED_AT = '2026-01-15T09:45:00.000Z';
const ENDED_AT = new Date('2026-01-15T10:02:00.000Z');
const RUN_ID = 'mail_example_com-1a2b3c4d-0123456789abcdef';
const RUN_ARN = `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${RUN_ID}`;
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAd1secret-task-token';
const TOKENS = [
  'abcdefghijklmnopqrstuvwxyz234567',
  'bcdefghijklmnopqrstuvwxyz2345672',
  'cdefghijklmnopqrstuvwxyz23456723',
];

/** The records the run derived and published (TTL 1800: not what SES's view would give). */
const publishedRecords: DkimDnsRecord[] = TOKENS.map((token) => ({
  type: 'CNAME',
  name: `${token}._domainkey.mail.example.com`,
  value: `${token}.dkim.amazonses.com`,
  ttl: 1800,
}));
const probe: ProbeResult[] = publishedRecords.map((record, index) => ({
  name: record.name,
  type: 'CNAME',
  status: index === 0 ? 'OK' : 'MISSING',
  expected: record.value,
  found: null,
  detail: index === 0 ? null : 'the name does not exist (NXDOMAIN)',
}));

/** The registry item of a domain whose run waits for SES, after its first look. */
function waitingItem(overrides: Partial<RegistryItem> = {}): RegistryItem {
  return {
    identity: 'mail.example.com',
    kind: 'IDENTITY',
    identity_type: 'DOMAIN',
    status: 'PENDING',
    dkim_status: 'PENDING',
    created_at: STARTED_AT.toISOString(),
    updated_at: CHECKED_AT,
    active_run_id: RUN_ID,
    task_token: TASK_TOKEN,
    latest_run: { ...pendingRun(RUN_ID, STARTED_AT), execution_arn: RUN_ARN },
    records_json: JSON.stringify(publishedRecords),
    published_json: JSON.stringify({ provider: 'route53', records: publishedRecords }),
    probe_json: JSON.stringify(probe),
    checked_at: CHECKED_AT,
    ...overrides,
  };
}

const easyDkimIdentity: GetEmailIdentityCommandOutput = {
  $metadata: {},
  IdentityType: 'DOMAIN',
  VerifiedForSendingStatus: false,
  VerificationStatus: 'PENDING',
  DkimAttributes: {
    SigningEnabled: true,
    Status: 'PENDING',
    Tokens: TOKENS,
    SigningAttributesOrigin: 'AWS_SES',
    CurrentSigningKeyLength: 'RSA_2048_BIT',
    NextSigningKeyLength: 'RSA_2048_BIT',
  },
  VerificationInfo: {
    LastCheckedTimestamp: new Date('2026-01-15T09:45:00.000Z'),
    ErrorType: 'HOST_NOT_FOUND',
  },
};

const sesNotFound = () => new NotFoundException({ message: 'not found', $metadata: {} });

afterAll(async () => {
  await registry.close();
});

describe('GetIdentityStatus (GET /identities/{identity})', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(async () => {
    ses.reset();
    await clearRegistryTable();
    ses.on(GetEmailIdentityCommand).resolves(easyDkimIdentity);
  });

  describe('an identity the stack manages', () => {
    beforeEach(async () => {
      await putRegistryItem(waitingItem());
    });

    it("reports the registry's record of the run beside SES's live view", async () => {
      const response = await handler(apiEvent('api-get-identity-status.json'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(response.headers?.['Content-Type']).toBe('application/json');
      expect(bodyOf(response)).toEqual({
        success: true,
        data: {
          identity: 'mail.example.com',
          identity_type: 'DOMAIN',
          status: 'PENDING',
          dkim_status: 'PENDING',
          ses: {
            identity_type: 'DOMAIN',
            verification_status: 'PENDING',
            verified_for_sending: false,
            configuration_set_name: null,
            dkim: {
              origin: 'AWS_SES',
              status: 'PENDING',
              signing_enabled: true,
              tokens: TOKENS,
              selector: null,
              current_signing_key_length: 'RSA_2048_BIT',
              next_signing_key_length: 'RSA_2048_BIT',
            },
            verification_info: {
              error_type: 'HOST_NOT_FOUND',
              last_checked_at: '2026-01-15T09:45:00.000Z',
              last_success_at: null,
              soa_record: null,
            },
          },
          records: publishedRecords,
          zone_file: publishedRecords.map((r) => `${r.name}. 1800 IN CNAME ${r.value}.`),
          probe,
          // No look and no run with DEED replicas has ended on this item.
          readiness: null,
          latest_run: {
            id: RUN_ID,
            execution_arn: RUN_ARN,
            operation: 'CreateIdentity',
            status: 'PENDING',
            started_at: STARTED_AT.toISOString(),
            ended_at: null,
            console_url: `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${RUN_ARN}`,
            reason: null,
          },
          managed: true,
          updated_at: CHECKED_AT,
          checked_at: CHECKED_AT,
        },
      });
      expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
        EmailIdentity: 'mail.example.com',
      });
    });

    it("never shows the waiting run's task token, with which anyone could end the wait", async () => {
      const response = await handler(getEvent('mail.example.com'), lambdaContext);

      expect(response.body).not.toContain(TASK_TOKEN);
      expect(response.body).not.toContain('task_token');
    });

    it.each([
      ['VERIFIED', null],
      ['FAILED', { code: 'DKIM_FAILED', message: 'SES gave up on the records', retryable: true }],
      ['TIMED_OUT', { code: 'TIMED_OUT', message: 'No DKIM after 72 hours', retryable: true }],
    ] as const)('reports a run that ended %s with its end and reason', async (status, reason) => {
      await endRunInRegistry('mail.example.com', RUN_ID, status, ENDED_AT, reason);

      const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

      expect(data.status).toBe(status);
      expect(data.latest_run).toMatchObject({
        status,
        ended_at: ENDED_AT.toISOString(),
        reason,
      });
      expect(data.updated_at).toBe(ENDED_AT.toISOString());
    });

    it("takes the DKIM status from SES's live view over the registry's last look", async () => {
      ses.on(GetEmailIdentityCommand).resolves({
        ...easyDkimIdentity,
        DkimAttributes: { ...easyDkimIdentity.DkimAttributes, Status: 'SUCCESS' },
      });

      const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

      expect(data).toMatchObject({ status: 'PENDING', dkim_status: 'SUCCESS' });
    });

    it('answers from the registry alone, with ses null, while SES throttles', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sdkError('TooManyRequestsException', 429));

      const response = await handler(getEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response).data).toMatchObject({
        ses: null,
        status: 'PENDING',
        dkim_status: 'PENDING',
        records: publishedRecords,
        managed: true,
      });
    });

    it('reports a run whose identity SES does not have yet, with no records', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sesNotFound());
      await putRegistryItem(
        waitingItem({
          dkim_status: null,
          records_json: undefined,
          published_json: undefined,
          probe_json: undefined,
          checked_at: undefined,
          updated_at: STARTED_AT.toISOString(),
        }),
      );

      const response = await handler(getEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response).data).toMatchObject({
        ses: null,
        records: [],
        zone_file: [],
        probe: [],
        dkim_status: null,
        status: 'PENDING',
        managed: true,
        checked_at: null,
        latest_run: { id: RUN_ID },
      });
    });

    it('answers from the registry alone, with ses null, while SES fails on its side', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sdkError('InternalFailure', 500));

      const response = await handler(getEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response).data).toMatchObject({ ses: null, managed: true });
    });

    it('returns 500 INTERNAL_ERROR with a generic message when SES refuses the request', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sdkError('AccessDeniedException', 403));

      const response = await handler(getEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(500);
      expect(bodyOf(response).error).toEqual({
        code: 'INTERNAL_ERROR',
        message: 'Internal error; the request may be retried',
      });
    });
  });

  describe('an identity only SES knows', () => {
    it('reports SES state and the CNAMEs it expects, with no run', async () => {
      const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

      expect(data).toMatchObject({
        status: 'PENDING',
        dkim_status: 'PENDING',
        managed: false,
        latest_run: null,
        probe: [],
        updated_at: null,
        checked_at: null,
      });
      expect(data.records).toEqual(
        TOKENS.map((token) => ({
          type: 'CNAME',
          name: `${token}._domainkey.mail.example.com`,
          value: `${token}.dkim.amazonses.com`,
          ttl: 600,
        })),
      );
      expect(data.zone_file[0]).toBe(
        `${TOKENS[0]}._domainkey.mail.example.com. 600 IN CNAME ${TOKENS[0]}.dkim.amazonses.com.`,
      );
    });

    it.each([
      [{ VerifiedForSendingStatus: true }, 'VERIFIED'],
      [
        { DkimAttributes: { ...easyDkimIdentity.DkimAttributes, Status: 'FAILED' as const } },
        'FAILED',
      ],
      [{ VerificationStatus: 'FAILED' as const }, 'FAILED'],
      [{}, 'PENDING'],
    ])('takes the status from SES (%o → %s)', async (override, expected) => {
      ses.on(GetEmailIdentityCommand).resolves({ ...easyDkimIdentity, ...override });

      const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

      expect(data).toMatchObject({ status: expected, latest_run: null, managed: false });
    });

    it('reports a BYODKIM identity with its selector and no records (SES keeps the public key)', async () => {
      ses.on(GetEmailIdentityCommand).resolves({
        ...easyDkimIdentity,
        DkimAttributes: {
          SigningEnabled: true,
          Status: 'SUCCESS',
          Tokens: ['sel2026'],
          SigningAttributesOrigin: 'EXTERNAL',
        },
      });

      const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

      expect(data.ses.dkim).toMatchObject({
        origin: 'EXTERNAL',
        selector: 'sel2026',
        tokens: [],
        status: 'SUCCESS',
      });
      expect(data.records).toEqual([]);
    });

    it('normalises the domain part of an address', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves({ $metadata: {}, IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true });

      const response = await handler(getEvent('Ops@Example.COM'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
        EmailIdentity: 'Ops@example.com',
      });
      expect(bodyOf(response).data).toMatchObject({
        identity: 'Ops@example.com',
        identity_type: 'EMAIL_ADDRESS',
        records: [],
        status: 'VERIFIED',
      });
    });
  });

  describe('an identity neither knows', () => {
    it('returns 404 NOT_FOUND', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sesNotFound());
      await putRegistryItem(waitingItem({ identity: 'other.example.com' }));

      const response = await handler(getEvent('unknown.example.com'), lambdaContext);

      expect(response.statusCode).toBe(404);
      expect(bodyOf(response)).toEqual({
        success: false,
        error: {
          code: 'NOT_FOUND',
          message: 'Neither the stack nor SES knows unknown.example.com',
        },
      });
    });

    it('returns 429 THROTTLED, not a made-up PENDING, while SES throttles', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sdkError('TooManyRequestsException', 429));

      const response = await handler(getEvent('unknown.example.com'), lambdaContext);

      expect(response.statusCode).toBe(429);
      expect(response.headers?.['Retry-After']).toBe('2');
      expect(bodyOf(response).error.code).toBe('THROTTLED');
    });

    it('returns 500 INTERNAL_ERROR, never a made-up 404, while SES fails on its side', async () => {
      ses.on(GetEmailIdentityCommand).rejects(sdkError('InternalFailure', 500));

      const response = await handler(getEvent('unknown.example.com'), lambdaContext);

      expect(response.statusCode).toBe(500);
      expect(bodyOf(response).error.code).toBe('INTERNAL_ERROR');
    });
  });

  describe('a path that names no identity', () => {
    it('returns 400 VALIDATION_ERROR for an identity that is neither a domain nor an address', async () => {
      const response = await handler(getEvent('not a domain'), lambdaContext);

      expect(response.statusCode).toBe(400);
      const { error } = bodyOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details.length).toBeGreaterThan(0);
      expect(error.details.every((d: { field: string }) => d.field === 'identity')).toBe(true);
      expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    });

    it('does not decode the path parameter a second time: API Gateway decoded it already', async () => {
      // `/identities/ops%2540example.com` arrives as `ops%40example.com`: not an address.
      const response = await handler(getEvent('ops%40example.com'), lambdaContext);

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.code).toBe('VALIDATION_ERROR');
      expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    });

    it('returns 400 VALIDATION_ERROR when the path has no identity', async () => {
      const event = getEvent('x');
      event.pathParameters = undefined;

      const response = await handler(event, lambdaContext);

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.details).toEqual([
        { field: 'identity', message: 'is required' },
      ]);
    });
  });
});
