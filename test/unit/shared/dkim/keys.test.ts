import { createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateDkimKeyPair,
  inspectPrivateKey,
  keyLengthForBits,
  privateKeyBits,
  publicKeyFromPrivateKey,
} from '#shared/dkim/keys.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

describe('generateDkimKeyPair', () => {
  it.each([
    ['RSA_1024_BIT', 1024],
    ['RSA_2048_BIT', 2048],
  ] as const)('generates a %s pair whose halves belong together', async (keyLength, bits) => {
    const pair = await generateDkimKeyPair(keyLength);

    // The private half is PKCS#1 DER in base64, the form SES's DomainSigningPrivateKey takes.
    const privateKey = createPrivateKey({
      key: Buffer.from(pair.privateKey, 'base64'),
      format: 'der',
      type: 'pkcs1',
    });
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
    const publicKey = createPublicKey({
      key: Buffer.from(pair.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const signature = createSign('sha256').update('dkim').sign(privateKey);
    expect(createVerify('sha256').update('dkim').verify(publicKey, signature)).toBe(true);
  });

  it('generates 2048 bits when no length is asked for', async () => {
    const pair = await generateDkimKeyPair();
    expect(privateKeyBits(pair.privateKey)).toBe(2048);
  });
});

describe('inspectPrivateKey', () => {
  it.each([
    ['a 1024-bit PKCS#1 key', testKeys.rsa1024Pkcs1, 1024, testKeys.rsa1024PublicKey],
    ['a 1024-bit PKCS#8 key', testKeys.rsa1024Pkcs8, 1024, testKeys.rsa1024PublicKey],
    ['a 2048-bit PKCS#1 key', testKeys.rsa2048Pkcs1, 2048, testKeys.rsa2048PublicKey],
    ['a 2048-bit PKCS#8 key', testKeys.rsa2048Pkcs8, 2048, testKeys.rsa2048PublicKey],
  ])('accepts %s and derives its public key', (_label, key, bits, publicKey) => {
    expect(inspectPrivateKey(key)).toEqual({ ok: true, bits, publicKey });
  });

  it.each([
    ['a PEM key', testKeys.rsa2048Pem, /is PEM/],
    [
      'base64 with a line break',
      `${testKeys.rsa2048Pkcs1.slice(0, 64)}\n${testKeys.rsa2048Pkcs1.slice(64)}`,
      /must be base64/,
    ],
    ['text that is not base64', 'not a key!', /must be base64/],
    ['base64 that is not a key', Buffer.from('hello world').toString('base64'), /does not decode/],
    [
      'a 512-bit RSA key',
      testKeys.rsa512Pkcs1,
      /is a 512-bit RSA key; SES accepts 1024 to 2048 bits/,
    ],
    ['a 2304-bit RSA key', testKeys.rsa2304Pkcs1, /is a 2304-bit RSA key/],
    ['an EC key', testKeys.ecPkcs8, /is a key of type ec; SES needs an RSA key/],
    ['a key longer than SES accepts', 'A'.repeat(20481), /at most 20480/],
  ])('rejects %s without quoting it', (_label, key, reason) => {
    const inspection = inspectPrivateKey(key);
    expect(inspection.ok).toBe(false);
    if (inspection.ok) return;
    expect(inspection.reason).toMatch(reason);
    expect(inspection.reason).not.toContain(key.slice(0, 16));
  });
});

describe('publicKeyFromPrivateKey', () => {
  it('derives the SubjectPublicKeyInfo of PKCS#1 and PKCS#8 keys alike', () => {
    expect(publicKeyFromPrivateKey(testKeys.rsa2048Pkcs1)).toBe(testKeys.rsa2048PublicKey);
    expect(publicKeyFromPrivateKey(testKeys.rsa2048Pkcs8)).toBe(testKeys.rsa2048PublicKey);
  });

  it('throws an error that does not quote the key when the key is unreadable', () => {
    const garbage = Buffer.from('certainly not a key').toString('base64');
    expect(() => publicKeyFromPrivateKey(garbage)).toThrow(/not PKCS#1 or PKCS#8/);
    try {
      publicKeyFromPrivateKey(garbage);
    } catch (error) {
      expect((error as Error).message).not.toContain(garbage);
    }
  });
});

describe('key sizes', () => {
  it('reads the bits of a key, and nothing from garbage', () => {
    expect(privateKeyBits(testKeys.rsa1024Pkcs8)).toBe(1024);
    expect(privateKeyBits('AAAA')).toBeUndefined();
  });

  it.each([
    [1024, 'RSA_1024_BIT'],
    [2048, 'RSA_2048_BIT'],
    [1536, null],
  ])('names %i bits %s', (bits, name) => {
    expect(keyLengthForBits(bits)).toBe(name);
  });
});
