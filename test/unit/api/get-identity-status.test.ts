import {
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  NotFoundException,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.DNS_RECORD_TTL = '600';
});

import { handler } from '#api/get-identity-status/handler.js';
import { executionPrefixFor } from '#shared/runs/execution-names.js';
import { apiEvent, bodyOf, getEvent, lambdaContext, sdkError } from './support.js';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
const STARTED_AT = new Date('2026-01-15T09:30:01.000Z');
const STOPPED_AT = new Date('2026-01-15T10:02:00.000Z');
const TOKENS = [
  'abcdefghijklmnopqrstuvwxyz234567',
  'bcdefghijklmnopqrstuvwxyz2345672',
  'cdefghijklmnopqrstuvwxyz23456723',
];

function execution(identity: string, suffix: string): ExecutionListItem {
  const name = `${executionPrefixFor(identity)}${suffix}`;
  return {
    name,
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`,
    stateMachineArn: STATE_MACHINE_ARN,
    status: 'RUNNING',
    startDate: STARTED_AT,
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

describe('GetIdentityStatus (GET /identities/{identity})', () => {
  const ses = mockClient(SESv2Client);
  const sfn = mockClient(SFNClient);

  beforeEach(() => {
    ses.reset();
    sfn.reset();
    ses.on(GetEmailIdentityCommand).resolves(easyDkimIdentity);
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [execution('mail.example.com', 'aaaaaaaaaaaaaaaa')] });
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => ({
      executionArn: input.executionArn,
      name: input.executionArn.split(':').at(-1),
      stateMachineArn: STATE_MACHINE_ARN,
      status: 'RUNNING',
      startDate: STARTED_AT,
      input: '{"EmailIdentity":"mail.example.com"}',
    }));
  });

  it('reports SES state, the expected CNAMEs and the running run as PENDING', async () => {
    const response = await handler(apiEvent('api-get-identity-status.json'), lambdaContext);

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('application/json');
    const { success, data } = bodyOf(response);
    expect(success).toBe(true);
    expect(data).toMatchObject({
      identity: 'mail.example.com',
      identity_type: 'DOMAIN',
      status: 'PENDING',
      dkim_status: 'PENDING',
      ses: {
        identity_type: 'DOMAIN',
        verification_status: 'PENDING',
        verified_for_sending: false,
        dkim: { origin: 'AWS_SES', tokens: TOKENS, selector: null, status: 'PENDING' },
        verification_info: {
          error_type: 'HOST_NOT_FOUND',
          last_checked_at: '2026-01-15T09:45:00.000Z',
          last_success_at: null,
        },
      },
    });
    expect(data.records).toEqual(
      TOKENS.map((token) => ({
        type: 'CNAME',
        name: `${token}._domainkey.mail.example.com`,
        value: `${token}.dkim.amazonses.com`,
        ttl: 600,
      })),
    );
    expect(data.zone_file).toHaveLength(3);
    expect(data.zone_file[0]).toBe(
      `${TOKENS[0]}._domainkey.mail.example.com. 600 IN CNAME ${TOKENS[0]}.dkim.amazonses.com.`,
    );
    const run = execution('mail.example.com', 'aaaaaaaaaaaaaaaa');
    expect(data.latest_run).toEqual({
      id: run.name,
      execution_arn: run.executionArn,
      status: 'PENDING',
      execution_status: 'RUNNING',
      started_at: STARTED_AT.toISOString(),
      stopped_at: null,
      console_url: `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${run.executionArn}`,
      reason: null,
    });
    expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
      EmailIdentity: 'mail.example.com',
    });
  });

  it.each([
    ['SUCCEEDED', undefined, 'VERIFIED', null],
    ['FAILED', 'TIMED_OUT', 'TIMED_OUT', { code: 'TIMED_OUT', message: 'No DKIM after 72 hours' }],
    ['FAILED', 'DKIM_FAILED', 'FAILED', { code: 'DKIM_FAILED', message: 'No DKIM after 72 hours' }],
    ['ABORTED', undefined, 'FAILED', { code: 'ABORTED', message: null }],
    ['TIMED_OUT', undefined, 'FAILED', { code: 'TIMED_OUT', message: null }],
  ])('maps a %s execution with error %s to status %s', async (status, error, expected, reason) => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: status as DescribeExecutionCommandOutput['status'],
      error,
      cause: error ? 'No DKIM after 72 hours' : undefined,
      startDate: STARTED_AT,
      stopDate: STOPPED_AT,
    } as DescribeExecutionCommandOutput);

    const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

    expect(data.status).toBe(expected);
    expect(data.latest_run).toMatchObject({
      status: expected,
      execution_status: status,
      stopped_at: STOPPED_AT.toISOString(),
      reason,
    });
  });

  it('takes the newest matching run, reading further pages until one matches', async () => {
    const mine = execution('mail.example.com', 'bbbbbbbbbbbbbbbb');
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({
        executions: [execution('other.example.com', 'cccccccccccccccc')],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        executions: [mine, execution('mail.example.com', 'dddddddddddddddd')],
        nextToken: 'page-3',
      });

    const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

    expect(data.latest_run.id).toBe(mine.name);
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      nextToken: 'page-2',
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: mine.executionArn,
    });
  });

  it('returns 404 NOT_FOUND when neither SES nor any run knows the identity', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'not found', $metadata: {} }));
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [execution('other.example.com', 'aaaaaaaaaaaaaaaa')] });

    const response = await handler(getEvent('unknown.example.com'), lambdaContext);

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toEqual({
      success: false,
      error: {
        code: 'NOT_FOUND',
        message: 'Neither SES nor any verification run knows unknown.example.com',
      },
    });
  });

  it('reports a run whose identity SES does not have (yet), with no records', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'not found', $metadata: {} }));

    const response = await handler(getEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response).data).toMatchObject({
      ses: null,
      records: [],
      zone_file: [],
      dkim_status: null,
      status: 'PENDING',
    });
  });

  it.each([
    [{ VerifiedForSendingStatus: true }, 'VERIFIED'],
    [
      { DkimAttributes: { ...easyDkimIdentity.DkimAttributes, Status: 'FAILED' as const } },
      'FAILED',
    ],
    [{}, 'PENDING'],
  ])('without any run, takes the status from SES (%o → %s)', async (override, expected) => {
    ses.on(GetEmailIdentityCommand).resolves({ ...easyDkimIdentity, ...override });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    const { data } = bodyOf(await handler(getEvent('mail.example.com'), lambdaContext));

    expect(data).toMatchObject({ status: expected, latest_run: null });
    expect(sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
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
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

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
    expect(bodyOf(response).error.details).toEqual([{ field: 'identity', message: 'is required' }]);
  });

  it.each([
    ['SES', 'TooManyRequestsException'],
    ['Step Functions', 'ThrottlingException'],
  ])('returns 429 THROTTLED when %s throttles', async (service, name) => {
    if (service === 'SES') ses.on(GetEmailIdentityCommand).rejects(sdkError(name, 429));
    else sfn.on(ListExecutionsCommand).rejects(sdkError(name));

    const response = await handler(getEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(429);
    expect(bodyOf(response).error.code).toBe('THROTTLED');
  });

  it('returns 500 INTERNAL_ERROR with a generic message when SES fails otherwise', async () => {
    ses.on(GetEmailIdentityCommand).rejects(sdkError('InternalFailure', 500));

    const response = await handler(getEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'Internal error; the request may be retried',
    });
  });

  it('never echoes the execution input, so nothing a run was given reaches the response', async () => {
    const marker = 'MIICXAIBAAKBgQDkeyMaterialThatMustNotLeak';
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'VALIDATION_ERROR',
      cause: 'DkimSigningAttributes.DomainSigningPrivateKey: is not accepted here',
      startDate: STARTED_AT,
      input: JSON.stringify({
        EmailIdentity: 'mail.example.com',
        DkimSigningAttributes: { DomainSigningPrivateKey: marker },
      }),
    } as DescribeExecutionCommandOutput);

    const response = await handler(getEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(marker);
  });
});
