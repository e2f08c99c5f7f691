import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HIDDEN_KEY, redactJsonText, redactKeys, redactText } from '#sandbox/console/redact.js';
import { holdsKey } from '#test/support/key-material.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');
const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
const publicKey2048 = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'der' })
  .toString('base64');

describe('the console hides private keys', () => {
  it.each([['DomainSigningPrivateKey'], ['privateKey'], ['private_key'], ['PRIVATE-KEY']])(
    'hides the value of a field named %s, whatever it holds',
    (field) => {
      expect(redactKeys({ DkimSigningAttributes: { [field]: 'short' } })).toEqual({
        DkimSigningAttributes: { [field]: HIDDEN_KEY },
      });
    },
  );

  it('keeps the ARN of the secret that holds a key', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keys/example.com-AbCdEf';
    expect(redactKeys({ DomainSigningPrivateKeySecretArn: arn })).toEqual({
      DomainSigningPrivateKeySecretArn: arn,
    });
  });

  it('hides a base64 DER key anywhere in a string, under any field, in arrays too', () => {
    const value = redactKeys({
      Tags: [{ Key: 'note', Value: `pasted: ${pkcs1} (by mistake)` }],
      cause: pkcs1,
    });
    expect(holdsKey(JSON.stringify(value), pkcs1)).toBe(false);
    expect(value).toEqual({
      Tags: [{ Key: 'note', Value: `pasted: ${HIDDEN_KEY} (by mistake)` }],
      cause: HIDDEN_KEY,
    });
  });

  it('hides a PEM key, and one cut before its END line', () => {
    expect(redactText(`key:\n${pkcs8Pem}done`)).toBe(`key:\n${HIDDEN_KEY}done`);
    const cut = pkcs8Pem.slice(0, 200);
    expect(holdsKey(redactText(cut), pkcs8Pem)).toBe(false);
  });

  it('hides a key used as a field name', () => {
    expect(holdsKey(JSON.stringify(redactKeys({ [pkcs1]: 1 })), pkcs1)).toBe(false);
  });

  it('keeps what the console must show: a 2048-bit DKIM public key in its TXT record, a task token', () => {
    const txt = `v=DKIM1; k=rsa; p=${publicKey2048}`;
    const token = `AQ${Buffer.alloc(96, 7).toString('base64')}`;
    expect(
      redactKeys({
        value: txt,
        token,
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
      }),
    ).toEqual({
      value: txt,
      token,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
    });
  });

  it('parses a JSON text before hiding, so field names count; other text is hidden as text', () => {
    expect(redactJsonText(JSON.stringify({ privateKey: 'x', a: 1 }))).toEqual({
      privateKey: HIDDEN_KEY,
      a: 1,
    });
    expect(redactJsonText(`not json ${pkcs1}`)).toBe(`not json ${HIDDEN_KEY}`);
    expect(redactJsonText(undefined)).toBeUndefined();
  });
});
