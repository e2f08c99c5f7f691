import { describe, expect, it } from 'vitest';
import { describeFailure } from '#steps/describe-failure/describe-failure.js';
import { expectValidDetail } from '#test/support/event-schemas.js';

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: ['at secret/stack/frame.js:1'] });

describe('describeFailure', () => {
  it.each([
    ['ConflictError', 'CONFLICT'],
    ['DnsPublishError', 'DNS_PUBLISH_FAILED'],
    ['SesBadRequestError', 'SES_ERROR'],
    ['ThrottlingError', 'SES_ERROR'],
    ['SesNotFoundError', 'SES_ERROR'],
    ['Lambda.Unknown', 'INTERNAL_ERROR'],
    ['States.Timeout', 'INTERNAL_ERROR'],
    ['TypeError', 'INTERNAL_ERROR'],
  ])('maps %s to the reason code %s', (errorName, code) => {
    const detail = describeFailure({
      request: { EmailIdentity: 'example.com' },
      execution_id: 'run-1',
      error: { Error: errorName, Cause: lambdaCause(errorName, 'what went wrong') },
    });
    expect(detail.reason.code).toBe(code);
    expectValidDetail('Email Identity Verification Failed', detail);
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

  it('lists every problem of an invalid request with its field path', () => {
    const detail = describeFailure({
      request: {
        EmailIdentity: 'not a domain',
        Tags: [{ Key: 'aws:owner', Value: 'x' }],
        Colour: 'blue',
      },
      execution_id: 'run-2',
      error: { Error: 'ValidationError', Cause: lambdaCause('ValidationError', 'Invalid request') },
    });
    expect(detail.reason.code).toBe('VALIDATION_ERROR');
    const fields = detail.details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['EmailIdentity', 'Tags[0].Key', 'Colour']));
    expectValidDetail('Email Identity Verification Failed', detail);
  });

  it('lists the problems of an invalid DKIM change against the change schema', () => {
    const detail = describeFailure({
      request: {
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {},
      },
      error: { Error: 'ValidationError', Cause: lambdaCause('ValidationError', 'Invalid request') },
    });
    expect(detail.details).toContainEqual({
      field: 'SigningAttributes',
      message: expect.stringContaining('needs a key'),
    });
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
