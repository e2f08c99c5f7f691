import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { parseDkimChangeRequest, parseIdentityRequest } from '#shared/request/index.js';
import { createIdentityStep } from '#steps/create-identity/handler.js';
import { describeFailure } from '#steps/describe-failure/describe-failure.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { easyDkimIdentity } from '#test/support/fixtures.js';

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: ['at secret/stack/frame.js:1'] });

/** The error a step raised, as the state machine's Catch receives it: Lambda reports name and message. */
async function caught(step: () => unknown): Promise<{ Error: string; Cause: string }> {
  try {
    await step();
  } catch (error) {
    const { name, message } = error as Error;
    return { Error: name, Cause: lambdaCause(name, message) };
  }
  throw new Error('expected the step to fail, and it succeeded');
}

describe('describeFailure', () => {
  it.each([
    ['ValidationError', 'VALIDATION_ERROR', false],
    ['ConflictError', 'CONFLICT', false],
    ['DnsPublishError', 'DNS_PUBLISH_FAILED', false],
    ['DnsChangePendingError', 'DNS_PUBLISH_FAILED', true],
    ['SesBadRequestError', 'SES_ERROR', false],
    ['SesLimitExceededError', 'SES_ERROR', false],
    ['SesNotFoundError', 'SES_ERROR', false],
    ['ThrottlingError', 'SES_ERROR', true],
    ['ServiceUnavailableError', 'SES_ERROR', true],
    ['ConcurrentModificationError', 'SES_ERROR', true],
    ['Lambda.Unknown', 'INTERNAL_ERROR', true],
    ['States.Timeout', 'INTERNAL_ERROR', true],
    ['States.TaskFailed', 'INTERNAL_ERROR', true],
    ['States.Permissions', 'INTERNAL_ERROR', false],
    ['ConfigurationError', 'INTERNAL_ERROR', false],
    ['TypeError', 'INTERNAL_ERROR', false],
  ])('maps %s to the reason code %s, retryable %s', (errorName, code, retryable) => {
    const detail = describeFailure({
      request: { EmailIdentity: 'example.com' },
      execution_id: 'run-1',
      error: { Error: errorName, Cause: lambdaCause(errorName, 'what went wrong') },
    });
    expect(detail.reason).toMatchObject({ code, retryable });
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it.each([
    ['a normalised identity', 'Mail.Example.COM.', 'mail.example.com'],
    ['an address, its domain normalised', 'Ops@Example.COM', 'Ops@example.com'],
    ['nothing for an invalid one', 'not a domain', null],
    ['nothing for a key pasted as an address', `x@${'MIIEowIBAAKCAQEA'.repeat(20)}`, null],
    ['nothing for a value that is not a string', 42, null],
  ])('names the requested identity as %s', (_what, requested, identity) => {
    const detail = describeFailure({
      request: { EmailIdentity: requested },
      error: { Error: 'ValidationError', Cause: lambdaCause('ValidationError', 'Invalid request') },
    });
    expect(detail.identity).toBe(identity);
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it('names the identity CreateIdentity made, with its type, over the request', () => {
    const detail = describeFailure({
      request: { EmailIdentity: 'Mail.Example.COM' },
      identity: easyDkimIdentity(new Date('2026-11-01T00:00:00.000Z'), 'mail.example.com'),
      error: { Error: 'DnsPublishError', Cause: lambdaCause('DnsPublishError', 'no zone') },
    });
    expect(detail).toMatchObject({ identity: 'mail.example.com', identity_type: 'DOMAIN' });
  });

  it("keeps Lambda's errorMessage and drops the stack trace", () => {
    const detail = describeFailure({
      request: { EmailIdentity: 'example.com' },
      error: {
        Error: 'ConflictError',
        Cause: lambdaCause(
          'ConflictError',
          'example.com uses BYODKIM, the request asks for Easy DKIM',
        ),
      },
    });
    expect(detail.reason.message).toBe('example.com uses BYODKIM, the request asks for Easy DKIM');
    expect(JSON.stringify(detail)).not.toContain('stack/frame');
  });

  it('lists every problem of an invalid request with its field path', async () => {
    const request = {
      EmailIdentity: 'not a domain',
      Tags: [{ Key: 'aws:owner', Value: 'x' }],
      Colour: 'blue',
    };
    const detail = describeFailure({
      request,
      execution_id: 'run-2',
      error: await caught(() => parseIdentityRequest(request, { keyDelivery: 'secret' })),
    });
    expect(detail.reason.code).toBe('VALIDATION_ERROR');
    const fields = detail.details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['EmailIdentity', 'Tags[0].Key', 'Colour']));
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it('lists the problems of an invalid DKIM change against the change schema', async () => {
    const request = {
      EmailIdentity: 'example.com',
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: {},
    };
    const detail = describeFailure({
      request,
      error: await caught(() => parseDkimChangeRequest(request, { keyDelivery: 'secret' })),
    });
    expect(detail.details).toContainEqual({
      field: 'SigningAttributes',
      message: expect.stringContaining('needs a key'),
    });
  });

  it('carries the details of a validation error raised after parsing: a missing key secret', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const request = {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/gone-AbCdEf',
      },
    };

    const detail = describeFailure({
      request,
      error: await caught(() => createIdentityStep(request)),
    });
    secrets.restore();

    expect(detail.reason.code).toBe('VALIDATION_ERROR');
    expect(detail.details).toEqual([
      {
        field: 'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
        message: expect.stringContaining('does not exist or is scheduled for deletion'),
      },
    ]);
    // The message is the summary a person reads; the details are not repeated in it as JSON.
    expect(detail.reason.message).toMatch(/^Invalid request: DkimSigningAttributes\./);
    expect(detail.reason.message).not.toContain('[{');
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it('describes a run whose input was not even an object', () => {
    const detail = describeFailure({
      request: 'hello',
      error: { Error: 'ValidationError', Cause: lambdaCause('ValidationError', 'Invalid request') },
    });
    expect(detail).toMatchObject({ identity: null, reason: { code: 'VALIDATION_ERROR' } });
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it('never carries key material, even if a message did', () => {
    const key = 'MIIE'.padEnd(1600, 'A');
    const detail = describeFailure({
      error: {
        Error: 'SesBadRequestError',
        Cause: lambdaCause('SesBadRequestError', `bad key ${key}`),
      },
    });
    expect(JSON.stringify(detail)).not.toContain(key);
  });
});
