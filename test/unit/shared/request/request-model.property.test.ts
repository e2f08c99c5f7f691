import fc from 'fast-check';
import { toUnicode } from 'tr46';
import { describe, expect, it } from 'vitest';
import { dkimRecordsFor } from '#shared/dns/records.js';
import {
  type IdentityRequest,
  normaliseEmailIdentity,
  parseDkimChangeRequest,
  parseIdentityRequest,
} from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { testKeys } from './test-keys.js';

/**
 * Properties of the request model over generated input. Every run is seeded and bounded by a
 * number of runs, never by time, so `npm test` sees the same cases on every machine; a failure
 * prints its seed and the shrunk counterexample.
 */
const RUNS = { numRuns: 400 } as const;

/**
 * Counts the verdicts of one property, so that a test can show its generator reached both sides
 * (a property over inputs that are all refused would prove nothing).
 */
function verdicts() {
  const seen = { accepted: 0, refused: 0 };
  return {
    seen,
    record: (accepted: boolean) => {
      seen[accepted ? 'accepted' : 'refused'] += 1;
    },
    expectBothSides: () => {
      expect(seen.accepted).toBeGreaterThanOrEqual(RUNS.numRuns / 20);
      expect(seen.refused).toBeGreaterThanOrEqual(RUNS.numRuns / 20);
    },
  };
}

// Characters a domain may carry, and ones that bent names before: URL syntax, white space,
// invisible characters, look-alikes that IDNA folds, an unpaired surrogate.
const DOMAIN_CHARACTERS = [
  ...'abcxyz019-',
  ...'ABCXYZ',
  'ü',
  'Ü',
  'ß',
  'é',
  'ж',
  '中',
  'ｅ',
  'Ｚ',
  'ﾃ',
  '\u0308',
];
const HOSTILE_CHARACTERS = [
  '/',
  '?',
  '#',
  '%',
  ':',
  '@',
  '\\',
  '_',
  ' ',
  '\t',
  '\n',
  '\u0000',
  '\u200b',
  '\u00ad',
  '\u2060',
  '\ufeff',
  'ℌ',
  'ﬁ',
  'Ⅻ',
  '\ud800',
];
const HOSTILE = new Set(HOSTILE_CHARACTERS);

const label = fc.string({
  unit: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...DOMAIN_CHARACTERS) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_CHARACTERS) },
  ),
  minLength: 1,
  maxLength: 20,
});
const separator = fc.constantFrom('.', '.', '.', '.', '\u3002', '\uff0e');
const domainLike = fc
  .tuple(
    fc.array(fc.tuple(label, separator), { minLength: 1, maxLength: 4 }),
    fc.constantFrom('com', 'example', 'org', 'ü', '123'),
    fc.boolean(),
  )
  .map(
    ([labels, tld, rooted]) =>
      `${labels.map(([l, dot]) => `${l}${dot}`).join('')}${tld}${rooted ? '.' : ''}`,
  );
const identityLike = fc.oneof(
  domainLike,
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9.+_-]{1,20}$/), domainLike).map(([l, d]) => `${l}@${d}`),
);

/**
 * The name as a person reads it: compatibility forms folded (which covers the full-width and
 * half-width forms IDNA2008 maps), lower case, NFC, any full stop as ".", no root dot. An
 * accepted name must be this name, nothing dropped, cut or added.
 */
function asRead(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u3002\uff0e\uff61]/g, '.')
    .replace(/\.$/, '')
    .normalize('NFC');
}

describe('accepted identities round-trip: SES sees the name the caller sent', () => {
  it('accepts a name only in its ASCII form, unchanged but for case, width, NFC and the root dot', () => {
    const count = verdicts();
    fc.assert(
      fc.property(identityLike, (raw) => {
        const { value, problems } = normaliseEmailIdentity(raw);
        count.record(problems.length === 0);
        if (problems.length > 0) return;
        const at = raw.lastIndexOf('@');
        const [local, domain] = at < 0 ? ['', raw] : [raw.slice(0, at + 1), raw.slice(at + 1)];
        // Nothing that bent names before gets through.
        expect([...domain].some((c) => HOSTILE.has(c))).toBe(false);
        // SES receives ASCII; normalising it again changes nothing.
        expect(value).toMatch(/^[\x21-\x7e]+$/);
        expect(normaliseEmailIdentity(value)).toEqual({ value, problems: [] });
        expect(value.startsWith(local)).toBe(true);
        const unicode = toUnicode(value.slice(local.length)).domain;
        expect(unicode).toBe(asRead(domain));
      }),
      { ...RUNS, seed: 1601 },
    );
    count.expectBothSides();
  });

  it('keeps the local part of an accepted address exactly as given', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/), (local) => {
        const { value, problems } = normaliseEmailIdentity(`${local}@Example.com`);
        if (problems.length === 0) expect(value).toBe(`${local}@example.com`);
      }),
      { ...RUNS, seed: 1602 },
    );
  });

  // Tag text: what SES documents, what it refuses, and what JSON and UTF-8 cannot carry; and
  // text of allowed characters only, many outside the BMP, around the limits.
  const tagUnit = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...'aZ09 _.:/=+-@', 'é', 'ж', '中', '𝐀', '𠀀') },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', '\u0000', '#', '*', '\u200b') },
  );
  const allowedUnit = fc.constantFrom('a', 'Z', '9', ' ', '_', 'é', '中', '𝐀', '𠀀');
  const tagText = (limit: number) =>
    fc.oneof(
      fc.string({ unit: tagUnit, maxLength: limit + 12 }),
      fc.string({ unit: allowedUnit, minLength: limit / 2 - 4, maxLength: limit + 4 }),
    );

  it('passes accepted tags on exactly as given, within SES limits counted in UTF-16 units', () => {
    const count = verdicts();
    fc.assert(
      fc.property(
        fc.array(fc.record({ Key: tagText(128), Value: tagText(256) }), { maxLength: 3 }),
        (tags) => {
          let parsed: IdentityRequest;
          try {
            parsed = parseIdentityRequest(
              { EmailIdentity: 'example.com', Tags: tags },
              { keyDelivery: 'secret' },
            );
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            count.record(false);
            return;
          }
          count.record(true);
          expect(parsed.Tags).toEqual(tags);
          for (const { Key, Value } of parsed.Tags ?? []) {
            for (const [text, min, max] of [
              [Key, 1, 128],
              [Value, 0, 256],
            ] as const) {
              expect(text.length).toBeGreaterThanOrEqual(min);
              expect(text.length).toBeLessThanOrEqual(max);
              // The SDK sends UTF-8 and SES decodes it: a string that is not well-formed would
              // arrive with U+FFFD in it.
              expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
              expect(text.toLowerCase().startsWith('aws:')).toBe(false);
            }
          }
          // The execution input is JSON: the request survives it unchanged.
          expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
        },
      ),
      { ...RUNS, seed: 1603 },
    );
    count.expectBothSides();
  });

  it('passes an accepted selector and configuration set name on exactly as given', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'aZ09-_. é'), minLength: 0, maxLength: 70 }),
        fc.string({ unit: fc.constantFrom(...'aZ09-_. é'), minLength: 0, maxLength: 70 }),
        (selector, configurationSet) => {
          try {
            const parsed = parseIdentityRequest(
              {
                EmailIdentity: 'example.com',
                ConfigurationSetName: configurationSet,
                DkimSigningAttributes: {
                  DomainSigningSelector: selector,
                  GenerateDomainSigningKey: {},
                },
              },
              { keyDelivery: 'secret' },
            );
            expect(parsed.ConfigurationSetName).toBe(configurationSet);
            expect(parsed.DkimSigningAttributes?.DomainSigningSelector).toBe(selector);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { ...RUNS, seed: 1604 },
    );
  });
});

describe('accepted requests produce record names within DNS limits', () => {
  /** A domain of `length` characters with labels of at most `maxLabel`, ending in `.com`. */
  function domainOf(length: number, maxLabel: number): string {
    const labels: string[] = [];
    let left = length - 3;
    let next = 0;
    while (left > 0) {
      let size = Math.min(maxLabel, left - 1);
      if (left - (size + 1) === 1) size -= 1;
      labels.push(String.fromCharCode(97 + (next++ % 26)).repeat(size));
      left -= size + 1;
    }
    return `${labels.join('.')}.com`;
  }

  const base32 = fc.stringMatching(/^[a-z2-7]{32}$/);
  const domain = fc
    .tuple(fc.integer({ min: 5, max: 260 }), fc.integer({ min: 2, max: 63 }))
    .map(([length, maxLabel]) => domainOf(length, maxLabel));
  const selector = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);

  function namesOf(identity: string, dkim: CreatedIdentity['dkim']): string[] {
    const created: CreatedIdentity = {
      identity,
      identity_type: 'DOMAIN',
      created_at: '2026-01-15T00:00:00.000Z',
      adopted: false,
      configuration_set_name: null,
      dkim,
      dns: { provider: null, hosted_zone_id: null },
      change: null,
    };
    return dkimRecordsFor(created).map((record) => record.name);
  }

  function fitsDns(name: string): boolean {
    return name.length <= 253 && name.split('.').every((l) => l.length >= 1 && l.length <= 63);
  }

  const summary = (origin: 'AWS_SES' | 'EXTERNAL', tokens: string[], selector: string | null) => ({
    origin,
    tokens,
    selector,
    status: 'PENDING' as const,
    current_signing_key_length: null,
    next_signing_key_length: null,
    public_key: origin === 'EXTERNAL' ? testKeys.rsa2048PublicKey : null,
  });

  it('accepts an Easy DKIM request exactly when the names PublishDnsRecords derives fit', () => {
    const count = verdicts();
    fc.assert(
      fc.property(domain, fc.array(base32, { minLength: 3, maxLength: 3 }), (name, tokens) => {
        let accepted = true;
        try {
          parseIdentityRequest({ EmailIdentity: name }, { keyDelivery: 'secret' });
        } catch {
          accepted = false;
        }
        const fits = namesOf(name, summary('AWS_SES', tokens, null)).every(fitsDns);
        expect(accepted).toBe(fits && name.length <= 253);
        count.record(accepted);
      }),
      { ...RUNS, seed: 1605 },
    );
    count.expectBothSides();
  });

  it('accepts a BYODKIM request exactly when its selector record fits', () => {
    const count = verdicts();
    fc.assert(
      fc.property(domain, selector, (name, chosen) => {
        let accepted = true;
        try {
          parseIdentityRequest(
            {
              EmailIdentity: name,
              DkimSigningAttributes: {
                DomainSigningSelector: chosen,
                GenerateDomainSigningKey: {},
              },
            },
            { keyDelivery: 'secret' },
          );
        } catch {
          accepted = false;
        }
        const fits = namesOf(name, summary('EXTERNAL', [], chosen)).every(fitsDns);
        expect(accepted).toBe(fits && name.length <= 253);
        count.record(accepted);
      }),
      { ...RUNS, seed: 1606 },
    );
    count.expectBothSides();
  });

  it('accepts a DKIM change only when the records it will publish fit', () => {
    const count = verdicts();
    fc.assert(
      fc.property(
        domain,
        fc.option(selector, { nil: undefined }),
        fc.constantFrom('AWS_SES', 'EXTERNAL'),
        fc.array(base32, { minLength: 3, maxLength: 3 }),
        (name, chosen, origin, tokens) => {
          const SigningAttributes =
            origin === 'EXTERNAL'
              ? {
                  GenerateDomainSigningKey: {},
                  ...(chosen === undefined ? {} : { DomainSigningSelector: chosen }),
                }
              : undefined;
          try {
            parseDkimChangeRequest(
              { EmailIdentity: name, SigningAttributesOrigin: origin, SigningAttributes },
              { keyDelivery: 'secret' },
            );
          } catch {
            count.record(false);
            return;
          }
          count.record(true);
          // A selector the workflow picks: ses-YYYYMMDD, or ses-YYYYMMDD-N on the same day.
          const published = origin === 'AWS_SES' ? null : (chosen ?? 'ses-20260115-99');
          const names = namesOf(
            name,
            summary(origin, origin === 'AWS_SES' ? tokens : [], published),
          );
          expect(names.every(fitsDns)).toBe(true);
        },
      ),
      { ...RUNS, seed: 1607 },
    );
    count.expectBothSides();
  });
});
