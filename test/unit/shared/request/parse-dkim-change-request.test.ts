import { describe, expect, it } from 'vitest';
import { parseDkimChangeRequest } from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';
import { testKeys } from './test-keys.js';

const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/example.com-abc123';
const base = { Operation: 'ChangeDkimSigning', EmailIdentity: 'Example.com' };

function problems(input: unknown, keyDelivery: 'inline' | 'secret' = 'secret') {
  try {
    parseDkimChangeRequest(input, { keyDelivery });
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.details;
  }
}

describe('parseDkimChangeRequest', () => {
  it.each([
    ['Easy DKIM', { SigningAttributesOrigin: 'AWS_SES' }],
    [
      'Easy DKIM with a key length',
      {
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      },
    ],
    [
      'BYODKIM with a secret',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 's2',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      },
    ],
    [
      'BYODKIM with a generated key and no selector',
      { SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: { GenerateDomainSigningKey: {} } },
    ],
  ])('accepts %s', (_name, fields) => {
    const parsed = parseDkimChangeRequest({ ...base, ...fields }, { keyDelivery: 'secret' });
    expect(parsed.EmailIdentity).toBe('example.com');
  });

  it('accepts an inline key in the API body', () => {
    const body = {
      ...base,
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: {
        DomainSigningSelector: 's2',
        DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
      },
    };
    expect(problems(body, 'inline')).toEqual([]);
  });

  it.each([
    ['no origin', {}, 'SigningAttributesOrigin', 'is required'],
    [
      'an unknown origin',
      { SigningAttributesOrigin: 'AWS' },
      'SigningAttributesOrigin',
      'must be AWS_SES or EXTERNAL',
    ],
    [
      'an address',
      { EmailIdentity: 'ops@example.com', SigningAttributesOrigin: 'AWS_SES' },
      'EmailIdentity',
      'must be a domain',
    ],
    [
      'BYODKIM fields with Easy DKIM',
      { SigningAttributesOrigin: 'AWS_SES', SigningAttributes: { DomainSigningSelector: 's1' } },
      'SigningAttributes.DomainSigningSelector',
      'is for BYODKIM',
    ],
    [
      'a key length with BYODKIM',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT', GenerateDomainSigningKey: {} },
      },
      'SigningAttributes.NextSigningKeyLength',
      'is for Easy DKIM',
    ],
    [
      'BYODKIM without a key',
      { SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: { DomainSigningSelector: 's1' } },
      'SigningAttributes',
      'needs a key',
    ],
    [
      'two keys',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          GenerateDomainSigningKey: {},
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      },
      'SigningAttributes',
      'give exactly one',
    ],
    [
      'a bad selector',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: '-s1', GenerateDomainSigningKey: {} },
      },
      'SigningAttributes.DomainSigningSelector',
      'must not begin or end with a hyphen',
    ],
    [
      'an unknown field',
      { SigningAttributesOrigin: 'AWS_SES', Colour: 'blue' },
      'Colour',
      'is not a known field',
    ],
  ])('rejects %s, naming the field', (_name, fields, field, message) => {
    const found = problems({ ...base, ...fields });
    expect(found).toContainEqual({ field, message: expect.stringContaining(message) });
  });

  it('rejects an inline key in workflow input without quoting it', () => {
    const input = {
      ...base,
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: {
        DomainSigningSelector: 's2',
        DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
      },
    };
    const found = problems(input, 'secret');
    expect(found.map((p) => p.field)).toContain('SigningAttributes.DomainSigningPrivateKey');
    expect(JSON.stringify(found)).not.toContain(testKeys.rsa2048Pkcs1);
  });

  it('reports every problem of one request together', () => {
    const found = problems({
      Operation: 'Nope',
      EmailIdentity: 'ops@example.com',
      SigningAttributesOrigin: 'EXTERNAL',
      Extra: 1,
    });
    expect(found.map((p) => p.field)).toEqual(
      expect.arrayContaining(['Operation', 'EmailIdentity', 'SigningAttributes', 'Extra']),
    );
  });
});
