import { describe, expect, it } from 'vitest';
import {
  type KeyDelivery,
  parseDkimChangeRequest,
  parseIdentityRequest,
} from '#shared/request/index.js';
import { type FieldIssue, ValidationError } from '#shared/workflow/errors.js';

// 𝐀 (U+1D400) is one code point and two UTF-16 code units.
const ASTRAL = '𝐀';

/** A domain of exactly `length` characters: labels of up to 63 `a`s, ending in `.com`. */
function domainOfLength(length: number): string {
  const labels: string[] = [];
  // Each label costs its length and the dot after it; ".com" needs the last 3 after that dot.
  let left = length - 3;
  while (left > 0) {
    let size = Math.min(63, left - 1);
    // A remainder of 1 could not hold a label and its dot.
    if (left - (size + 1) === 1) size -= 1;
    labels.push('a'.repeat(size));
    left -= size + 1;
  }
  const domain = `${labels.join('.')}.com`;
  expect(domain).toHaveLength(length);
  return domain;
}

function problemsOf(parse: () => unknown): FieldIssue[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  return [];
}

const identity = (input: unknown, keyDelivery: KeyDelivery = 'secret') =>
  problemsOf(() => parseIdentityRequest(input, { keyDelivery }));
const change = (input: Record<string, unknown>) =>
  problemsOf(() =>
    parseDkimChangeRequest({ Operation: 'ChangeDkimSigning', ...input }, { keyDelivery: 'secret' }),
  );

describe('tag lengths, counted as SES counts them (UTF-16 code units)', () => {
  const key = (Key: string) => ({ EmailIdentity: 'example.com', Tags: [{ Key, Value: 'v' }] });
  const value = (Value: string) => ({ EmailIdentity: 'example.com', Tags: [{ Key: 'k', Value }] });

  it.each([
    ['a key of 128 BMP characters', key('k'.repeat(128))],
    ['a key of 64 astral characters (128 units)', key(ASTRAL.repeat(64))],
    ['a key of 126 BMP and 1 astral character (128 units)', key(`${'k'.repeat(126)}${ASTRAL}`)],
    ['a value of 256 BMP characters', value('v'.repeat(256))],
    ['a value of 128 astral characters (256 units)', value(ASTRAL.repeat(128))],
  ])('accepts %s', (_label, input) => {
    expect(identity(input)).toEqual([]);
  });

  it.each([
    ['a key of 129 BMP characters', key('k'.repeat(129)), 'Tags[0].Key', /it has 129/],
    [
      'a key of 128 astral characters (256 units)',
      key(ASTRAL.repeat(128)),
      'Tags[0].Key',
      /1 to 128 characters long as SES counts them \(it has 256.*outside the Basic Multilingual Plane/,
    ],
    ['a key of 65 astral characters (130 units)', key(ASTRAL.repeat(65)), 'Tags[0].Key', /130/],
    [
      'a key of 127 BMP and 1 astral character (129 units)',
      key(`${'k'.repeat(127)}${ASTRAL}`),
      'Tags[0].Key',
      /it has 129/,
    ],
    ['a value of 257 BMP characters', value('v'.repeat(257)), 'Tags[0].Value', /it has 257/],
    [
      'a value of 129 astral characters (258 units)',
      value(ASTRAL.repeat(129)),
      'Tags[0].Value',
      /0 to 256 characters long as SES counts them \(it has 258/,
    ],
    [
      'a key with an unpaired surrogate',
      key('team\ud800'),
      'Tags[0].Key',
      /may contain only Unicode letters/,
    ],
  ])('rejects %s', (_label, input, field, message) => {
    expect(identity(input)).toContainEqual({ field, message: expect.stringMatching(message) });
  });
});

describe('record names within DNS limits, checked before any AWS call', () => {
  // {token}._domainkey.{domain}: 32 + 12 + 209 = 253.
  it('accepts a 209-character domain for Easy DKIM', () => {
    expect(identity({ EmailIdentity: domainOfLength(209) })).toEqual([]);
  });

  it.each([
    ['a 210-character domain', { EmailIdentity: domainOfLength(210) }],
    ['a 253-character domain', { EmailIdentity: domainOfLength(253) }],
    [
      'a 210-character domain with a key length',
      {
        EmailIdentity: domainOfLength(210),
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      },
    ],
  ])('rejects %s for Easy DKIM, naming the record', (_label, input) => {
    expect(identity(input)).toContainEqual({
      field: 'EmailIdentity',
      message: expect.stringMatching(
        /"\{token\}\._domainkey\.\{domain\}" would be \d+ characters.*253.*at most 209/,
      ),
    });
  });

  const byodkim = (domain: string, selector: string) => ({
    EmailIdentity: domain,
    DkimSigningAttributes: { DomainSigningSelector: selector, GenerateDomainSigningKey: {} },
  });

  it.each([
    ['a 1-character selector and a 240-character domain', byodkim(domainOfLength(240), 's')],
    [
      'a 63-character selector and a 178-character domain',
      byodkim(domainOfLength(178), 's'.repeat(63)),
    ],
  ])('accepts BYODKIM with %s (253 in all)', (_label, input) => {
    expect(identity(input)).toEqual([]);
  });

  it.each([
    ['a 1-character selector and a 241-character domain', byodkim(domainOfLength(241), 's')],
    [
      'a 63-character selector and a 179-character domain',
      byodkim(domainOfLength(179), 's'.repeat(63)),
    ],
  ])('rejects BYODKIM with %s, naming the selector', (_label, input) => {
    expect(identity(input)).toContainEqual({
      field: 'EmailIdentity',
      message: expect.stringMatching(/"\{selector\}\._domainkey\.\{domain\}" would be 254/),
    });
  });

  it('accepts an address at a 240-character domain: an address has no DNS records', () => {
    expect(identity({ EmailIdentity: `ops@${domainOfLength(240)}` })).toEqual([]);
  });

  it.each([
    ['a change to Easy DKIM', { SigningAttributesOrigin: 'AWS_SES' }, 210, false],
    ['a change to Easy DKIM', { SigningAttributesOrigin: 'AWS_SES' }, 209, true],
    [
      'a change to BYODKIM with a selector',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'sel', GenerateDomainSigningKey: {} },
      },
      239,
      false,
    ],
    [
      'a change to BYODKIM with a selector',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'sel', GenerateDomainSigningKey: {} },
      },
      238,
      true,
    ],
    [
      'a BYODKIM change whose selector the workflow picks (ses-YYYYMMDD-N)',
      { SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: { GenerateDomainSigningKey: {} } },
      // 253 - 12 ("._domainkey.") - 15 (the longest name the workflow picks, "ses-20260115-99")
      227,
      false,
    ],
    [
      'a BYODKIM change whose selector the workflow picks (ses-YYYYMMDD-N)',
      { SigningAttributesOrigin: 'EXTERNAL', SigningAttributes: { GenerateDomainSigningKey: {} } },
      226,
      true,
    ],
  ])('checks %s on a %i-character domain (accepted: %s)', (_label, fields, length, accepted) => {
    const problems = change({ ...fields, EmailIdentity: domainOfLength(length) });
    if (accepted) expect(problems).toEqual([]);
    else {
      expect(problems).toContainEqual({
        field: 'EmailIdentity',
        message: expect.stringMatching(/_domainkey.*would be 254 characters/),
      });
    }
  });
});

describe('the list of problems, capped', () => {
  it('lists 25 problems and says how many more there are (20,000 tags without a key, and too many tags)', () => {
    const tags = Array.from({ length: 20_000 }, () => ({}));
    const problems = identity({ EmailIdentity: 'example.com', Tags: tags });
    expect(problems).toHaveLength(26);
    expect(problems.slice(0, 25).every((p) => p.field.startsWith('Tags'))).toBe(true);
    expect(problems[25]).toEqual({
      field: '(request)',
      message: expect.stringMatching(/and 19,976 more problems.*first 25/),
    });
  });

  it('keeps the error message as short as the list', () => {
    let thrown: unknown;
    try {
      parseIdentityRequest(
        { EmailIdentity: 'example.com', Tags: Array.from({ length: 20_000 }, () => ({})) },
        { keyDelivery: 'secret' },
      );
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message.length).toBeLessThan(4_000);
  });

  it('lists every problem when there are 25 or fewer', () => {
    const tags = Array.from({ length: 25 }, (_, i) => ({ Key: `aws:k${i}`, Value: 'v' }));
    expect(identity({ EmailIdentity: 'example.com', Tags: tags })).toHaveLength(25);
  });

  it('cuts the name of an unknown field that is not a short identifier', () => {
    const name = `MIIEowIBAAKCAQEA${'q7Zx/'.repeat(100)}`;
    const problems = identity({ EmailIdentity: 'example.com', [name]: 1 });
    expect(problems).toEqual([{ field: '["MIIEowIBAAKC…"]', message: 'is not a known field' }]);
  });

  it('names an unknown field in full when it is a short identifier', () => {
    expect(identity({ EmailIdentity: 'example.com', DomainSigningPrivateKeySecretARN: 1 })).toEqual(
      [{ field: 'DomainSigningPrivateKeySecretARN', message: 'is not a known field' }],
    );
  });
});
