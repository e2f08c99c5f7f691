import { describe, expect, it } from 'vitest';
import type { SigningSnapshot } from '#shared/dkim/signing.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import type { DkimSigning } from '#shared/workflow/types.js';
import {
  KEY_SECRET_FIELD,
  planDkimChange,
  staleRecordsOf,
} from '#steps/change-dkim-signing/dkim-change-plan.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/k';
const TOKENS = ['tokena', 'tokenb', 'tokenc'];

const easy: DkimSigning = {
  origin: 'AWS_SES',
  selector: null,
  tokens: TOKENS,
  signing_key_length: 'RSA_2048_BIT',
};
const byodkim = (selector: string): DkimSigning => ({
  origin: 'EXTERNAL',
  selector,
  tokens: [],
  signing_key_length: 'RSA_2048_BIT',
});
const none: DkimSigning = { origin: null, selector: null, tokens: [], signing_key_length: null };

const snapshot = (signing: DkimSigning, extra: Partial<SigningSnapshot> = {}): SigningSnapshot => ({
  identity_type: 'DOMAIN',
  signing,
  dkim_status: signing.origin === null ? 'NOT_STARTED' : 'SUCCESS',
  next_signing_key_length: signing.origin === 'AWS_SES' ? 'RSA_2048_BIT' : null,
  last_key_generation_timestamp: signing.origin === 'AWS_SES' ? '2026-11-01T00:00:00.000Z' : null,
  verified_for_sending: signing.origin !== null,
  configuration_set_name: null,
  ...extra,
});

const change = (fields: Partial<DkimChangeRequest>): DkimChangeRequest => ({
  Operation: 'ChangeDkimSigning',
  EmailIdentity: 'example.com',
  SigningAttributesOrigin: 'AWS_SES',
  ...fields,
});
const toByodkim = (attributes: DkimChangeRequest['SigningAttributes'] = {}) =>
  change({ SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: attributes });

describe('planDkimChange', () => {
  it.each<[string, DkimSigning, DkimChangeRequest, string]>([
    ['no DKIM to Easy DKIM', none, change({}), 'ENABLE_EASY_DKIM'],
    ['no DKIM to BYODKIM', none, toByodkim(), 'ENABLE_BYODKIM'],
    ['Easy DKIM to BYODKIM', easy, toByodkim(), 'EASY_DKIM_TO_BYODKIM'],
    ['BYODKIM to Easy DKIM', byodkim('s1'), change({}), 'BYODKIM_TO_EASY_DKIM'],
    ['BYODKIM to a new BYODKIM key', byodkim('s1'), toByodkim(), 'BYODKIM_KEY_ROTATION'],
    [
      'Easy DKIM to another key length',
      easy,
      change({ SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } }),
      'EASY_DKIM_KEY_LENGTH',
    ],
    ['Easy DKIM to Easy DKIM as it is', easy, change({}), 'NO_CHANGE'],
    [
      'Easy DKIM to the key length it has',
      easy,
      change({ SigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' } }),
      'NO_CHANGE',
    ],
  ])('calls %s a change of kind %s', (_label, from, request, kind) => {
    expect(planDkimChange(request, snapshot(from), NOW)).toMatchObject({ kind, from });
  });

  it('plans Easy DKIM with the new key length: SES input without a key, nothing to read', () => {
    const plan = planDkimChange(
      change({ SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } }),
      snapshot(easy),
      NOW,
    );
    expect(plan).toMatchObject({
      to: {
        origin: 'AWS_SES',
        selector: null,
        signing_key_length: 'RSA_1024_BIT',
        next_signing_key_length: 'RSA_1024_BIT',
      },
      sesInput: {
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      },
      key: { source: 'NONE' },
    });
  });

  it('plans no SES call when Easy DKIM is already in place as asked', () => {
    const plan = planDkimChange(change({}), snapshot(easy), NOW);
    expect(plan.sesInput).toBeNull();
    expect(plan.to).toEqual({
      origin: 'AWS_SES',
      selector: null,
      signing_key_length: 'RSA_2048_BIT',
      next_signing_key_length: 'RSA_2048_BIT',
    });
  });

  it('plans BYODKIM from a secret: the selector asked for, the key read from the secret', () => {
    const plan = planDkimChange(
      toByodkim({
        DomainSigningSelector: 'mail2026',
        DomainSigningPrivateKeySecretArn: SECRET_ARN,
      }),
      snapshot(easy),
      NOW,
    );
    expect(plan).toMatchObject({
      to: { origin: 'EXTERNAL', selector: 'mail2026', signing_key_length: null },
      sesInput: {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'mail2026' },
      },
      key: { source: 'SECRET', secretArn: SECRET_ARN, field: KEY_SECRET_FIELD },
    });
    // The private key is added by the step once it holds it, never planned.
    expect(JSON.stringify(plan)).not.toContain('DomainSigningPrivateKey"');
  });

  it.each([
    [{}, 'RSA_2048_BIT'],
    [{ GenerateDomainSigningKey: { KeyLength: 'RSA_1024_BIT' as const } }, 'RSA_1024_BIT'],
  ])('plans BYODKIM with a generated key (%o → %s)', (attributes, keyLength) => {
    const plan = planDkimChange(toByodkim(attributes), snapshot(none), NOW);
    expect(plan).toMatchObject({
      to: { signing_key_length: keyLength, next_signing_key_length: keyLength },
      key: { source: 'GENERATED', keyLength },
    });
  });

  it.each([
    ['a selector of its own for the day', byodkim('s1'), 'ses-20261123'],
    ['the next one when today’s is in use', byodkim('ses-20261123'), 'ses-20261123-2'],
    ['the one after that', byodkim('ses-20261123-2'), 'ses-20261123-3'],
  ])('gives a rotation without a selector %s', (_label, from, selector) => {
    expect(planDkimChange(toByodkim(), snapshot(from), NOW).to.selector).toBe(selector);
  });

  it('refuses DKIM signing for an address, before any call', () => {
    expect(() =>
      planDkimChange(change({}), snapshot(none, { identity_type: 'EMAIL_ADDRESS' }), NOW),
    ).toThrow(ValidationError);
  });

  it('refuses a second key length change within a day, saying when it is allowed', () => {
    const plan = () =>
      planDkimChange(
        change({ SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } }),
        snapshot(easy, { last_key_generation_timestamp: '2026-11-23T01:00:00.000Z' }),
        NOW,
      );
    expect(plan).toThrow(ConflictError);
    expect(plan).toThrow(/allowed from 2026-11-24T01:00:00\.000Z/);
  });
});

describe('staleRecordsOf', () => {
  it.each<[string, DkimSigning, string[], { type: string; name: string }[]]>([
    [
      'every old CNAME when Easy DKIM gets new tokens',
      easy,
      ['new1._domainkey.example.com'],
      TOKENS.map((token) => ({ type: 'CNAME', name: `${token}._domainkey.example.com` })),
    ],
    [
      'nothing when the tokens stay',
      easy,
      TOKENS.map((token) => `${token}._domainkey.example.com`),
      [],
    ],
    [
      'the old selector TXT under a new selector',
      byodkim('s1'),
      ['s2._domainkey.example.com'],
      [{ type: 'TXT', name: 's1._domainkey.example.com' }],
    ],
    [
      'nothing when the selector stays (compared without case)',
      byodkim('S1'),
      ['s1._domainkey.example.com'],
      [],
    ],
    ['nothing when there was no DKIM', none, ['s1._domainkey.example.com'], []],
  ])('finds %s', (_label, from, newNames, stale) => {
    expect(staleRecordsOf({ identity: 'example.com', from }, newNames)).toEqual(stale);
  });
});
