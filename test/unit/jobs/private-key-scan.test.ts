import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findPrivateKey } from '#jobs/onboarding-starter/private-key-scan.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

const sampleDetail = (file: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../events/${file}`, import.meta.url), 'utf8')).detail;

/** `{ a: { a: ... { a: leaf } } }`, `depth` objects deep. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level += 1) value = { a: value };
  return value;
}

describe('findPrivateKey', () => {
  it.each([
    ['the creation sample', sampleDetail('onboarding-email-identity-requested.json')],
    ['the DKIM change sample', sampleDetail('onboarding-dkim-change.json')],
    [
      'a key held in a secret',
      {
        EmailIdentity: 'mail.example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:k-AbCdEf',
        },
      },
    ],
    [
      'an empty private key field, left to the request schema',
      { EmailIdentity: 'mail.example.com', DkimSigningAttributes: { DomainSigningPrivateKey: '' } },
    ],
    [
      'a public key, however long',
      { EmailIdentity: 'a.example.com', Notes: testKeys.rsa2048PublicKey },
    ],
    [
      'a long base64 text that is no key',
      { EmailIdentity: 'a.example.com', Notes: 'QUFB'.repeat(300) },
    ],
  ])('finds nothing in %s', (_what, detail) => {
    expect(findPrivateKey(detail)).toBeUndefined();
  });

  it.each([
    ['a PKCS#1 key', testKeys.rsa1024Pkcs1],
    ['a PKCS#8 key', testKeys.rsa2048Pkcs8],
    ['a PEM key', testKeys.rsa2048Pem],
  ])('finds %s as a value, wherever it is', (_what, key) => {
    expect(
      findPrivateKey({
        Tags: [
          { Key: 'a', Value: 'b' },
          { Key: 'c', Value: key },
        ],
      }),
    ).toEqual({
      path: 'Tags[1].Value',
    });
  });

  it.each([
    ['PrivateKey', 'PrivateKey'],
    ['private-key', 'private-key'],
    ['PRIVATE KEY', '["PRIVATE KEY"]'],
    ['domain_signing_private_key', 'domain_signing_private_key'],
  ])('finds a field named %s, whatever it holds', (name, path) => {
    expect(findPrivateKey({ EmailIdentity: 'a.example.com', [name]: 'anything' })).toEqual({
      path,
    });
  });

  it('reports a detail that is itself a key as the request', () => {
    expect(findPrivateKey(testKeys.rsa2048Pem)).toEqual({ path: '(request)' });
  });

  it('cuts a field name on the path that could itself be key material', () => {
    const finding = findPrivateKey({ [testKeys.rsa2048Pkcs1]: { privateKey: 'x' } });

    expect(finding?.path).toMatch(/^\["[^"]{12}…"\]\.privateKey$/);
  });

  it('treats nesting deeper than it looks as a key, rather than look no further', () => {
    expect(findPrivateKey(nested(40, 'x'))).toBeDefined();
    expect(findPrivateKey(nested(20, 'x'))).toBeUndefined();
  });
});
