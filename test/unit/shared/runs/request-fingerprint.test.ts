import { describe, expect, it } from 'vitest';
import { parseDkimChangeRequest, parseIdentityRequest } from '#shared/request/index.js';
import { requestFingerprint } from '#shared/runs/request-fingerprint.js';

const identity = (body: Record<string, unknown>) =>
  requestFingerprint(
    parseIdentityRequest({ EmailIdentity: 'a.example.com', ...body }, { keyDelivery: 'secret' }),
  );
const change = (body: Record<string, unknown>) =>
  requestFingerprint(
    parseDkimChangeRequest({ EmailIdentity: 'a.example.com', ...body }, { keyDelivery: 'secret' }),
  );

describe('requestFingerprint', () => {
  it.each([
    ['an empty tag list', { Tags: [] }],
    ['an empty Dns', { Dns: {} }],
    [
      'the default key length written out',
      { DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' } },
    ],
  ])('sees no difference in %s', (_what, extra) => {
    expect(identity(extra)).toBe(identity({}));
  });

  it('sees no difference in the order of tags, or in an absent tag value', () => {
    expect(
      identity({
        Tags: [
          { Key: 'b', Value: '' },
          { Key: 'a', Value: '1' },
        ],
      }),
    ).toBe(identity({ Tags: [{ Key: 'a', Value: '1' }, { Key: 'b' }] }));
  });

  it('sees no difference in a generated key of the default length written out', () => {
    const selector = { DomainSigningSelector: 's1' };
    expect(
      identity({
        DkimSigningAttributes: {
          ...selector,
          GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' },
        },
      }),
    ).toBe(identity({ DkimSigningAttributes: { ...selector, GenerateDomainSigningKey: {} } }));
  });

  it.each([
    [
      'a tag',
      {
        Tags: [
          { Key: 'tenant', Value: '42' },
          { Key: 'team', Value: 'mail' },
        ],
      },
    ],
    ['a tag value', { Tags: [{ Key: 'tenant', Value: '43' }] }],
    [
      'the key length',
      {
        Tags: [{ Key: 'tenant', Value: '42' }],
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      },
    ],
    [
      'a configuration set',
      { Tags: [{ Key: 'tenant', Value: '42' }], ConfigurationSetName: 'tenants' },
    ],
    ['a DNS provider', { Tags: [{ Key: 'tenant', Value: '42' }], Dns: { Provider: 'manual' } }],
  ])('tells requests apart by %s', (_what, variant) => {
    expect(identity(variant)).not.toBe(identity({ Tags: [{ Key: 'tenant', Value: '42' }] }));
  });

  it('tells a DKIM change from another, and sees no difference in a default written out', () => {
    const generated = {
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: { GenerateDomainSigningKey: {} },
    };
    expect(change(generated)).toBe(
      change({
        ...generated,
        SigningAttributes: { GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' } },
        Dns: {},
      }),
    );
    expect(change(generated)).not.toBe(change({ SigningAttributesOrigin: 'AWS_SES' }));
  });
});
