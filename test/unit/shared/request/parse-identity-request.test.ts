import { describe, expect, it } from 'vitest';
import {
  type IdentityRequest,
  identityTypeOf,
  type KeyDelivery,
  normaliseDomain,
  parseIdentityRequest,
} from '#shared/request/index.js';
import { type FieldIssue, ValidationError } from '#shared/workflow/errors.js';
import { testKeys } from './test-keys.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dkim/example.com-AbCdEf';
const label63 = 'a'.repeat(63);
// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters.
const domain253 = `${label63}.${label63}.${label63}.${'b'.repeat(57)}.com`;
// The longest domain whose Easy DKIM records fit in DNS: 32 + "._domainkey." + 209 = 253.
const domain209 = `${label63}.${label63}.${label63}.${'c'.repeat(13)}.com`;
const tags = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ Key: `key-${i}`, Value: `value-${i}` }));
const domain = (extra: Record<string, unknown>) => ({ EmailIdentity: 'example.com', ...extra });
const dkim = (attributes: Record<string, unknown>) => domain({ DkimSigningAttributes: attributes });

/** The details of the ValidationError the request raises; fails the test when it parses. */
function problemsOf(input: unknown, keyDelivery: KeyDelivery = 'secret'): FieldIssue[] {
  try {
    parseIdentityRequest(input, { keyDelivery });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  throw new Error('expected a ValidationError, but the request parsed');
}

describe('parseIdentityRequest accepts', () => {
  it.each<[string, unknown, KeyDelivery, Partial<IdentityRequest>]>([
    // EmailIdentity
    ['a domain', domain({}), 'secret', { EmailIdentity: 'example.com' }],
    [
      'a domain in upper case, lowered',
      { EmailIdentity: 'Mail.Example.COM' },
      'secret',
      { EmailIdentity: 'mail.example.com' },
    ],
    [
      'an internationalised domain, in ASCII form',
      { EmailIdentity: 'Bücher.example' },
      'secret',
      { EmailIdentity: 'xn--bcher-kva.example' },
    ],
    [
      'a domain with a trailing dot, without it',
      { EmailIdentity: 'example.com.' },
      'secret',
      { EmailIdentity: 'example.com' },
    ],
    [
      'a label of 63 characters',
      { EmailIdentity: `${label63}.com` },
      'secret',
      { EmailIdentity: `${label63}.com` },
    ],
    [
      'a domain of 209 characters (the longest whose Easy DKIM records fit in DNS)',
      { EmailIdentity: domain209 },
      'secret',
      { EmailIdentity: domain209 },
    ],
    [
      'an email address, its domain normalised',
      { EmailIdentity: 'Jane.Doe+ses@Example.COM' },
      'secret',
      { EmailIdentity: 'Jane.Doe+ses@example.com' },
    ],
    // Tags
    ['50 tags', domain({ Tags: tags(50) }), 'secret', { Tags: tags(50) }],
    [
      'a tag key of 128 characters',
      domain({ Tags: [{ Key: 'k'.repeat(128), Value: 'v' }] }),
      'secret',
      { Tags: [{ Key: 'k'.repeat(128), Value: 'v' }] },
    ],
    [
      'a tag key of 64 characters outside the BMP (128 UTF-16 units, as SES counts)',
      domain({ Tags: [{ Key: '𠀀'.repeat(64), Value: 'v' }] }),
      'secret',
      { Tags: [{ Key: '𠀀'.repeat(64), Value: 'v' }] },
    ],
    [
      'a tag value of 256 characters',
      domain({ Tags: [{ Key: 'k', Value: 'v'.repeat(256) }] }),
      'secret',
      { Tags: [{ Key: 'k', Value: 'v'.repeat(256) }] },
    ],
    [
      'an empty tag value',
      domain({ Tags: [{ Key: 'k', Value: '' }] }),
      'secret',
      { Tags: [{ Key: 'k', Value: '' }] },
    ],
    [
      'a tag without a value, as the empty string',
      domain({ Tags: [{ Key: 'k' }] }),
      'secret',
      { Tags: [{ Key: 'k', Value: '' }] },
    ],
    [
      'tag text with every allowed symbol',
      domain({ Tags: [{ Key: 'Équipe 9_.:/=+-@', Value: 'ünïcode 42 _.:/=+-@' }] }),
      'secret',
      { Tags: [{ Key: 'Équipe 9_.:/=+-@', Value: 'ünïcode 42 _.:/=+-@' }] },
    ],
    [
      '"aws:" inside a tag, not at its start',
      domain({ Tags: [{ Key: 'my-aws:key', Value: 'x-aws:y' }] }),
      'secret',
      { Tags: [{ Key: 'my-aws:key', Value: 'x-aws:y' }] },
    ],
    [
      'tag keys that differ only in case (keys are case-sensitive)',
      domain({
        Tags: [
          { Key: 'Team', Value: 'a' },
          { Key: 'team', Value: 'b' },
        ],
      }),
      'secret',
      {
        Tags: [
          { Key: 'Team', Value: 'a' },
          { Key: 'team', Value: 'b' },
        ],
      },
    ],
    // Easy DKIM
    [
      'Easy DKIM with RSA_1024_BIT',
      dkim({ NextSigningKeyLength: 'RSA_1024_BIT' }),
      'secret',
      { DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } },
    ],
    [
      'Easy DKIM with RSA_2048_BIT',
      dkim({ NextSigningKeyLength: 'RSA_2048_BIT' }),
      'secret',
      { DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' } },
    ],
    // BYODKIM
    [
      'a selector and a secret ARN',
      dkim({ DomainSigningSelector: 'sel-2024', DomainSigningPrivateKeySecretArn: SECRET_ARN }),
      'secret',
      {
        DkimSigningAttributes: {
          DomainSigningSelector: 'sel-2024',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      },
    ],
    [
      'a selector and a secret ARN in the API body too',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKeySecretArn: SECRET_ARN }),
      'inline',
      {
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      },
    ],
    [
      'a one-character selector',
      dkim({ DomainSigningSelector: 'a', GenerateDomainSigningKey: {} }),
      'secret',
      { DkimSigningAttributes: { DomainSigningSelector: 'a', GenerateDomainSigningKey: {} } },
    ],
    [
      'a selector of 63 characters',
      dkim({ DomainSigningSelector: label63, GenerateDomainSigningKey: {} }),
      'secret',
      { DkimSigningAttributes: { DomainSigningSelector: label63, GenerateDomainSigningKey: {} } },
    ],
    [
      'a generated key of 1024 bits',
      dkim({
        DomainSigningSelector: 's1',
        GenerateDomainSigningKey: { KeyLength: 'RSA_1024_BIT' },
      }),
      'secret',
      {
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          GenerateDomainSigningKey: { KeyLength: 'RSA_1024_BIT' },
        },
      },
    ],
    [
      'an inline 1024-bit PKCS#1 key',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa1024Pkcs1 }),
      'inline',
      {
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: testKeys.rsa1024Pkcs1,
        },
      },
    ],
    [
      'an inline 2048-bit PKCS#8 key',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2048Pkcs8 }),
      'inline',
      {
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: testKeys.rsa2048Pkcs8,
        },
      },
    ],
    // ConfigurationSetName
    [
      'a configuration set name of letters, digits, _ and -',
      domain({ ConfigurationSetName: 'Tenant_42-main' }),
      'secret',
      { ConfigurationSetName: 'Tenant_42-main' },
    ],
    [
      'a configuration set name of 64 characters',
      domain({ ConfigurationSetName: 'c'.repeat(64) }),
      'secret',
      { ConfigurationSetName: 'c'.repeat(64) },
    ],
    // Dns
    [
      'the route53 provider with a zone',
      domain({ Dns: { Provider: 'route53', HostedZoneId: 'Z0123456789ABC' } }),
      'secret',
      { Dns: { Provider: 'route53', HostedZoneId: 'Z0123456789ABC' } },
    ],
    [
      'the manual provider',
      domain({ Dns: { Provider: 'manual' } }),
      'secret',
      { Dns: { Provider: 'manual' } },
    ],
    [
      'a zone ID with its /hostedzone/ prefix, without it',
      domain({ Dns: { HostedZoneId: '/hostedzone/Z0123456789ABC' } }),
      'secret',
      { Dns: { HostedZoneId: 'Z0123456789ABC' } },
    ],
  ])('%s', (_label, input, keyDelivery, expected) => {
    expect(parseIdentityRequest(input, { keyDelivery })).toMatchObject(expected);
  });
});

describe('parseIdentityRequest rejects', () => {
  it.each<[string, unknown, KeyDelivery, string, RegExp]>([
    // The request itself
    [
      'a request that is not an object',
      'example.com',
      'secret',
      '(request)',
      /must be a JSON object/,
    ],
    ['a request that is an array', [], 'secret', '(request)', /must be a JSON object/],
    ['a request that is null', null, 'secret', '(request)', /must be a JSON object/],
    // EmailIdentity
    ['a missing EmailIdentity', {}, 'secret', 'EmailIdentity', /is required/],
    [
      'an EmailIdentity that is not a string',
      { EmailIdentity: 42 },
      'secret',
      'EmailIdentity',
      /must be a string/,
    ],
    [
      'an empty EmailIdentity',
      { EmailIdentity: '' },
      'secret',
      'EmailIdentity',
      /must not be empty/,
    ],
    [
      'a blank EmailIdentity, not trimmed to nothing',
      { EmailIdentity: '  ' },
      'secret',
      'EmailIdentity',
      /a space \(U\+0020\) at character 1/,
    ],
    [
      'a label of 64 characters',
      { EmailIdentity: `${'a'.repeat(64)}.com` },
      'secret',
      'EmailIdentity',
      /label of 64 characters.*1 to 63/,
    ],
    [
      'a domain of 254 characters',
      { EmailIdentity: `a${domain253}` },
      'secret',
      'EmailIdentity',
      /254 characters.*at most 253/,
    ],
    [
      'an empty label',
      { EmailIdentity: 'mail..example.com' },
      'secret',
      'EmailIdentity',
      /empty label/,
    ],
    [
      'a single label',
      { EmailIdentity: 'localhost' },
      'secret',
      'EmailIdentity',
      /at least two labels/,
    ],
    [
      'an underscore in a domain',
      { EmailIdentity: 'my_domain.com' },
      'secret',
      'EmailIdentity',
      /letters, digits and hyphens/,
    ],
    [
      'a label beginning with a hyphen',
      { EmailIdentity: '-mail.example.com' },
      'secret',
      'EmailIdentity',
      /does not begin or end with a hyphen/,
    ],
    [
      'a space in a domain',
      { EmailIdentity: 'exa mple.com' },
      'secret',
      'EmailIdentity',
      /a space \(U\+0020\) at character 4, which a domain name cannot have/,
    ],
    [
      'a domain of 253 characters, too long for its Easy DKIM records',
      { EmailIdentity: domain253 },
      'secret',
      'EmailIdentity',
      /"\{token\}\._domainkey\.\{domain\}" would be 297 characters/,
    ],
    ['an IP address', { EmailIdentity: '192.0.2.1' }, 'secret', 'EmailIdentity', /IP address/],
    [
      'an address without a local part',
      { EmailIdentity: '@example.com' },
      'secret',
      'EmailIdentity',
      /nothing before the @/,
    ],
    [
      'an address without a domain',
      { EmailIdentity: 'jane@' },
      'secret',
      'EmailIdentity',
      /nothing after the @/,
    ],
    [
      'an address with a space',
      { EmailIdentity: 'ja ne@example.com' },
      'secret',
      'EmailIdentity',
      /local part/,
    ],
    [
      'an address with a double dot',
      { EmailIdentity: 'jane..doe@example.com' },
      'secret',
      'EmailIdentity',
      /double dot/,
    ],
    [
      'a local part of 65 characters',
      { EmailIdentity: `${'j'.repeat(65)}@example.com` },
      'secret',
      'EmailIdentity',
      /65 characters.*at most 64/,
    ],
    [
      'an address with a bad domain',
      { EmailIdentity: 'jane@localhost' },
      'secret',
      'EmailIdentity',
      /domain part.*at least two labels/,
    ],
    // Tags
    [
      'Tags that are not an array',
      domain({ Tags: { Key: 'k' } }),
      'secret',
      'Tags',
      /must be an array/,
    ],
    ['51 tags', domain({ Tags: tags(51) }), 'secret', 'Tags', /has 51 tags.*at most 50/],
    [
      'a tag that is not an object',
      domain({ Tags: ['team=a'] }),
      'secret',
      'Tags[0]',
      /must be an object/,
    ],
    [
      'a tag without a key',
      domain({ Tags: [{ Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /is required/,
    ],
    [
      'an empty tag key',
      domain({ Tags: [{ Key: '', Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /1 to 128 characters/,
    ],
    [
      'a tag key of 129 characters',
      domain({ Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /1 to 128 characters long \(it has 129\)/,
    ],
    [
      'a tag value of 257 characters',
      domain({ Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }),
      'secret',
      'Tags[0].Value',
      /0 to 256 characters/,
    ],
    [
      'a tag value that is not a string',
      domain({ Tags: [{ Key: 'k', Value: 7 }] }),
      'secret',
      'Tags[0].Value',
      /must be a string/,
    ],
    [
      'a # in a tag key',
      domain({ Tags: [{ Key: 'a#b', Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /only Unicode letters, digits, white space/,
    ],
    [
      'a * in a tag value',
      domain({ Tags: [{ Key: 'k', Value: 'a*b' }] }),
      'secret',
      'Tags[0].Value',
      /only Unicode letters, digits, white space/,
    ],
    [
      'a tag key beginning with aws:',
      domain({ Tags: [{ Key: 'aws:team', Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /must not begin with "aws:"/,
    ],
    [
      'a tag key beginning with AWS: in another case',
      domain({ Tags: [{ Key: 'AwS:team', Value: 'v' }] }),
      'secret',
      'Tags[0].Key',
      /must not begin with "aws:"/,
    ],
    [
      'a tag value beginning with aws:',
      domain({ Tags: [{ Key: 'k', Value: 'AWS:v' }] }),
      'secret',
      'Tags[0].Value',
      /must not begin with "aws:"/,
    ],
    [
      'a repeated tag key',
      domain({
        Tags: [
          { Key: 'team', Value: 'a' },
          { Key: 'env', Value: 'b' },
          { Key: 'team', Value: 'c' },
        ],
      }),
      'secret',
      'Tags[2].Key',
      /repeats the key of Tags\[0\]/,
    ],
    // DkimSigningAttributes
    [
      'DKIM attributes for an email address',
      {
        EmailIdentity: 'jane@example.com',
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      },
      'secret',
      'DkimSigningAttributes',
      /only to a domain identity/,
    ],
    [
      'DKIM attributes that are not an object',
      dkim('RSA_2048_BIT' as never),
      'secret',
      'DkimSigningAttributes',
      /must be an object/,
    ],
    ['empty DKIM attributes', dkim({}), 'secret', 'DkimSigningAttributes', /is empty/],
    [
      'an unknown key length',
      dkim({ NextSigningKeyLength: 'RSA_4096_BIT' }),
      'secret',
      'DkimSigningAttributes.NextSigningKeyLength',
      /one of RSA_1024_BIT, RSA_2048_BIT/,
    ],
    [
      'a selector beginning with a hyphen',
      dkim({ DomainSigningSelector: '-s1', GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /letters, digits and hyphens/,
    ],
    [
      'a selector ending with a hyphen',
      dkim({ DomainSigningSelector: 's1-', GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /must not begin or end with a hyphen/,
    ],
    [
      'a selector with a dot',
      dkim({ DomainSigningSelector: 's.1', GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /letters, digits and hyphens/,
    ],
    [
      'a selector with an underscore',
      dkim({ DomainSigningSelector: 's_1', GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /letters, digits and hyphens/,
    ],
    [
      'an empty selector',
      dkim({ DomainSigningSelector: '', GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /1 to 63 characters/,
    ],
    [
      'a selector of 64 characters',
      dkim({ DomainSigningSelector: 's'.repeat(64), GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /1 to 63 characters long \(it has 64\)/,
    ],
    [
      'a selector without a key',
      dkim({ DomainSigningSelector: 's1' }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /needs a key: add DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey/,
    ],
    [
      'a secret ARN without a selector',
      dkim({ DomainSigningPrivateKeySecretArn: SECRET_ARN }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /is required with DomainSigningPrivateKeySecretArn/,
    ],
    [
      'a generated key without a selector',
      dkim({ GenerateDomainSigningKey: {} }),
      'secret',
      'DkimSigningAttributes.DomainSigningSelector',
      /is required with GenerateDomainSigningKey/,
    ],
    [
      'an inline key without a selector',
      dkim({ DomainSigningPrivateKey: testKeys.rsa2048Pkcs1 }),
      'inline',
      'DkimSigningAttributes.DomainSigningSelector',
      /is required with DomainSigningPrivateKey/,
    ],
    [
      'a secret ARN and a generated key',
      dkim({
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: SECRET_ARN,
        GenerateDomainSigningKey: {},
      }),
      'secret',
      'DkimSigningAttributes',
      /exactly one of DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey/,
    ],
    [
      'an inline key and a secret ARN',
      dkim({
        DomainSigningSelector: 's1',
        DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
        DomainSigningPrivateKeySecretArn: SECRET_ARN,
      }),
      'inline',
      'DkimSigningAttributes',
      /exactly one of DomainSigningPrivateKey, DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey/,
    ],
    [
      'NextSigningKeyLength with BYODKIM',
      dkim({
        DomainSigningSelector: 's1',
        GenerateDomainSigningKey: {},
        NextSigningKeyLength: 'RSA_2048_BIT',
      }),
      'secret',
      'DkimSigningAttributes.NextSigningKeyLength',
      /cannot be combined with BYODKIM/,
    ],
    [
      'NextSigningKeyLength with a selector alone',
      dkim({ DomainSigningSelector: 's1', NextSigningKeyLength: 'RSA_2048_BIT' }),
      'secret',
      'DkimSigningAttributes.NextSigningKeyLength',
      /cannot be combined with BYODKIM/,
    ],
    [
      'a secret ARN that is not one',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKeySecretArn: 'dkim/example.com' }),
      'secret',
      'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
      /ARN of a Secrets Manager secret/,
    ],
    [
      'an ARN of another service',
      dkim({
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: 'arn:aws:ssm:us-east-1:123456789012:parameter/dkim',
      }),
      'secret',
      'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
      /ARN of a Secrets Manager secret/,
    ],
    [
      'a generated key length that SES does not have',
      dkim({
        DomainSigningSelector: 's1',
        GenerateDomainSigningKey: { KeyLength: 'RSA_4096_BIT' },
      }),
      'secret',
      'DkimSigningAttributes.GenerateDomainSigningKey.KeyLength',
      /one of RSA_1024_BIT, RSA_2048_BIT/,
    ],
    [
      'a generated-key request that is not an object',
      dkim({ DomainSigningSelector: 's1', GenerateDomainSigningKey: true }),
      'secret',
      'DkimSigningAttributes.GenerateDomainSigningKey',
      /must be an object/,
    ],
    // Inline keys (HTTP API)
    [
      'an inline key in PEM',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2048Pem }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /is PEM/,
    ],
    [
      'an inline key that is not base64',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: 'not a key' }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /must be base64/,
    ],
    [
      'an inline key that is not a key',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: 'aGVsbG8gd29ybGQ=' }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /does not decode/,
    ],
    [
      'an inline key of 512 bits',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa512Pkcs1 }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /512-bit RSA key; SES accepts 1024 to 2048 bits/,
    ],
    [
      'an inline key of 2304 bits',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2304Pkcs1 }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /2304-bit RSA key/,
    ],
    [
      'an inline EC key',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.ecPkcs8 }),
      'inline',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /needs an RSA key/,
    ],
    // The key in the workflow input
    [
      'a private key in the workflow input',
      dkim({ DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2048Pkcs1 }),
      'secret',
      'DkimSigningAttributes.DomainSigningPrivateKey',
      /is not accepted here.*pass DomainSigningPrivateKeySecretArn/,
    ],
    // ConfigurationSetName
    [
      'an empty configuration set name',
      domain({ ConfigurationSetName: '' }),
      'secret',
      'ConfigurationSetName',
      /1 to 64 characters/,
    ],
    [
      'a configuration set name of 65 characters',
      domain({ ConfigurationSetName: 'c'.repeat(65) }),
      'secret',
      'ConfigurationSetName',
      /1 to 64 characters/,
    ],
    [
      'a space in a configuration set name',
      domain({ ConfigurationSetName: 'my set' }),
      'secret',
      'ConfigurationSetName',
      /letters, digits, _ and -/,
    ],
    // Dns
    ['Dns that is not an object', domain({ Dns: 'route53' }), 'secret', 'Dns', /must be an object/],
    [
      'an unknown DNS provider',
      domain({ Dns: { Provider: 'cloudflare' } }),
      'secret',
      'Dns.Provider',
      /route53 or manual/,
    ],
    [
      'a malformed hosted zone ID',
      domain({ Dns: { HostedZoneId: 'zone-1' } }),
      'secret',
      'Dns.HostedZoneId',
      /Route 53 hosted zone ID/,
    ],
    [
      'a hosted zone with the manual provider',
      domain({ Dns: { Provider: 'manual', HostedZoneId: 'Z0123456789ABC' } }),
      'secret',
      'Dns.HostedZoneId',
      /Provider is manual/,
    ],
    // Unknown fields, at every level
    [
      'an unknown top-level field',
      domain({ Domain: 'example.com' }),
      'secret',
      'Domain',
      /is not a known field/,
    ],
    [
      'an unknown tag field',
      domain({ Tags: [{ Key: 'k', Value: 'v', Extra: 1 }] }),
      'secret',
      'Tags[0].Extra',
      /is not a known field/,
    ],
    [
      'an unknown DKIM field',
      dkim({ NextSigningKeyLength: 'RSA_2048_BIT', SigningAttributesOrigin: 'AWS_SES' }),
      'secret',
      'DkimSigningAttributes.SigningAttributesOrigin',
      /is not a known field/,
    ],
    [
      'an unknown generated-key field',
      dkim({ DomainSigningSelector: 's1', GenerateDomainSigningKey: { Bits: 2048 } }),
      'secret',
      'DkimSigningAttributes.GenerateDomainSigningKey.Bits',
      /is not a known field/,
    ],
    [
      'an unknown Dns field',
      domain({ Dns: { Provider: 'manual', Ttl: 300 } }),
      'secret',
      'Dns.Ttl',
      /is not a known field/,
    ],
  ])('%s', (_label, input, keyDelivery, field, message) => {
    expect(problemsOf(input, keyDelivery)).toContainEqual({
      field,
      message: expect.stringMatching(message),
    });
  });

  it('reports every problem of one request together, each at its field', () => {
    const problems = problemsOf({
      EmailIdentity: 'jane@example.com',
      Tags: [
        { Key: 'aws:x', Value: 'v' },
        { Key: 'ok', Value: 'a*b' },
      ],
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_4096_BIT' },
      ConfigurationSetName: 'has space',
      Dns: { Provider: 'cloudflare' },
      Unknown: true,
    });
    expect(problems.map((problem) => problem.field).sort()).toEqual(
      [
        'ConfigurationSetName',
        'DkimSigningAttributes',
        'DkimSigningAttributes.NextSigningKeyLength',
        'Dns.Provider',
        'Tags[0].Key',
        'Tags[1].Value',
        'Unknown',
      ].sort(),
    );
  });

  it('puts every problem into the error message too', () => {
    expect(() =>
      parseIdentityRequest({ EmailIdentity: 'localhost', Extra: 1 }, { keyDelivery: 'secret' }),
    ).toThrow(
      /EmailIdentity: must be a domain name with at least two labels.*Extra: is not a known field/,
    );
  });

  it.each<[string, Record<string, unknown>, KeyDelivery, string]>([
    [
      'a key in the workflow input',
      { DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2048Pkcs1 },
      'secret',
      testKeys.rsa2048Pkcs1,
    ],
    [
      'a key of the wrong size',
      { DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa512Pkcs1 },
      'inline',
      testKeys.rsa512Pkcs1,
    ],
    [
      'a key with another field wrong',
      {
        DomainSigningSelector: '-',
        DomainSigningPrivateKey: testKeys.rsa2048Pkcs8,
        NextSigningKeyLength: 'RSA_2048_BIT',
      },
      'inline',
      testKeys.rsa2048Pkcs8,
    ],
    [
      'a key in PEM',
      { DomainSigningSelector: 's1', DomainSigningPrivateKey: testKeys.rsa2048Pem },
      'inline',
      testKeys.rsa2048Pem,
    ],
  ])('never quotes the private key when rejecting %s', (_label, attributes, keyDelivery, key) => {
    let thrown: unknown;
    try {
      parseIdentityRequest(dkim(attributes), { keyDelivery });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    const error = thrown as ValidationError;
    // A fragment of the key body is enough to tell whether it leaked.
    const fragment = key.replace(/-----[^-]+-----|\s/g, '').slice(40, 80);
    expect(error.message).not.toContain(fragment);
    expect(error.stack ?? '').not.toContain(fragment);
    expect(JSON.stringify(error.details)).not.toContain(fragment);
  });
});

describe('identityTypeOf', () => {
  it.each([
    ['example.com', 'DOMAIN'],
    ['jane@example.com', 'EMAIL_ADDRESS'],
  ])('says %s is a %s', (identity, type) => {
    expect(identityTypeOf(identity)).toBe(type);
  });
});

describe('normaliseDomain', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['München.DE', 'xn--mnchen-3ya.de'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com'],
    ['exa mple.com', ''],
  ])('normalises %s to %s', (name, normalised) => {
    expect(normaliseDomain(name)).toBe(normalised);
  });
});
