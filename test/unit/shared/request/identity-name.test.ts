import fc from 'fast-check';
import { toASCII } from 'tr46';
import { describe, expect, it } from 'vitest';
import { normaliseDomain, normaliseEmailIdentity } from '#shared/request/index.js';

/** The one problem an identity has; fails the test when it has none or several. */
function problemOf(raw: string): string {
  const { problems } = normaliseEmailIdentity(raw);
  expect(problems).toHaveLength(1);
  return problems[0] as string;
}

describe('normaliseEmailIdentity rejects what is not a domain or an address, naming the character', () => {
  it.each([
    // A platform that checks "ends with .tenant.example.org" must not be bypassed by these.
    [
      'a path after the host',
      'victim1.example.com/.tenant.example.org',
      /"\/" \(U\+002F\) at character 20/,
    ],
    [
      'a query after an address',
      'ops@victim2.example.com?x=.tenant.example.org',
      /"\?" \(U\+003F\) at character 24/,
    ],
    ['a percent-encoded dot', 'a%2eb.example.com', /"%" \(U\+0025\) at character 2/],
    ['a line feed inside', 'a\nb.example.com', /a line feed \(U\+000A\) at character 2/],
    ['a tab inside', 'mail.exa\tmple.com', /a tab \(U\+0009\) at character 9/],
    [
      'a zero-width space inside',
      'a\u200bb.tenant.example.org',
      /a zero-width space \(U\+200B\) at character 2/,
    ],
    ['a soft hyphen inside', 'ex\u00adample.com', /a soft hyphen \(U\+00AD\) at character 3/],
    ['a leading space', ' example.com', /a space \(U\+0020\) at character 1/],
    ['a trailing line feed', 'example.com\n', /a line feed \(U\+000A\) at character 12/],
    ['a backslash', 'a\\b.example.com', /"\\\\" \(U\+005C\) at character 2/],
    ['a colon and port', 'example.com:25', /":" \(U\+003A\) at character 12/],
    ['a hash', 'example.com#.tenant.example.org', /"#" \(U\+0023\) at character 12/],
    ['an underscore', 'my_domain.com', /"_" \(U\+005F\) at character 3/],
    [
      'a character IDNA would silently turn into another',
      'ℌ.example.com',
      /"ℌ" \(U\+210C\) at character 1.*would turn it into "h"/,
    ],
    [
      'a ligature IDNA would silently split',
      'ﬁnance.example.com',
      /"ﬁ" \(U\+FB01\) at character 1.*would turn it into "fi"/,
    ],
    [
      'a word joiner IDNA would silently drop',
      'ex\u2060ample.com',
      /a word joiner \(U\+2060\) at character 3.*would drop it/,
    ],
    ['an unpaired surrogate', 'a\ud800.example.com', /U\+D800 at character 2/],
    [
      'a control character in the domain part of an address',
      'ops@exa\u0000mple.com',
      /the character U\+0000 at character 8/,
    ],
    ['a space in the local part', 'ja ne@example.com', /a space \(U\+0020\) at character 3/],
    ['a second @', 'a@b@example.com', /"@" \(U\+0040\) at character 2/],
  ])('rejects %s', (_label, raw, message) => {
    expect(problemOf(raw)).toMatch(message);
  });

  it('counts the other offending characters after naming the first', () => {
    expect(problemOf('a/b/c/d.example.com')).toMatch(/"\/" \(U\+002F\) at character 2.*and 2 more/);
  });

  it.each([
    ['an invalid A-label', 'xn--abc.example', /label 1 .*not a valid A-label/],
    ['a label that breaks the IDNA Bidi rule', '١٢٣.example', /label 1 .*IDNA2008 does not allow/],
    ['a combining mark at the start of a label', '\u0301a.example', /label 1 .*IDNA2008/],
  ])('rejects %s', (_label, raw, message) => {
    expect(problemOf(raw)).toMatch(message);
  });
});

describe('normaliseEmailIdentity normalises only what IDNA and case rules define', () => {
  it.each([
    ['upper case', 'Mail.Example.COM', 'mail.example.com'],
    ['an internationalised name', 'Bücher.example', 'xn--bcher-kva.example'],
    ['an internationalised name in upper case', 'BÜCHER.example', 'xn--bcher-kva.example'],
    ['a decomposed ü, composed (NFC)', 'bu\u0308cher.example', 'xn--bcher-kva.example'],
    ['an A-label, kept', 'xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['an A-label in upper case', 'XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ['full-width letters (RFC 5895)', 'ＥＸＡＭＰＬＥ.com', 'example.com'],
    ['an ideographic full stop (RFC 5895)', 'mail\u3002example.com', 'mail.example.com'],
    ['ß, kept (IDNA2008, not transitional)', 'straße.example', 'xn--strae-oqa.example'],
    ['one trailing dot (the DNS root)', 'example.com.', 'example.com'],
    ['hyphens inside a label', 'ab--c.example.com', 'ab--c.example.com'],
    ['an address: its local part kept', 'Jane.Doe+ses@Example.COM', 'Jane.Doe+ses@example.com'],
    [
      'an address at an internationalised domain',
      'ops@Bücher.example',
      'ops@xn--bcher-kva.example',
    ],
  ])('accepts %s', (_label, raw, expected) => {
    expect(normaliseEmailIdentity(raw)).toEqual({ value: expected, problems: [] });
  });

  it('gives the same name for an accepted name normalised twice', () => {
    for (const raw of ['Bücher.example', 'ＥＸＡＭＰＬＥ.com', 'Jane@Example.com']) {
      const once = normaliseEmailIdentity(raw).value;
      expect(normaliseEmailIdentity(once)).toEqual({ value: once, problems: [] });
    }
  });

  it('returns the empty string from normaliseDomain for a name it rejects', () => {
    expect(normaliseDomain('victim1.example.com/.tenant.example.org')).toBe('');
    expect(normaliseDomain('a\u200bb.example.com')).toBe('');
  });
});

describe('normaliseEmailIdentity never quotes long input', () => {
  const key = `MIIEowIBAAKCAQEA${'q7Zx'.repeat(200)}`;

  it.each([
    ['an address whose domain part is a key', `x@${key}`],
    ['a domain that is a key', key],
    ['a domain with a key as one label', `${key}.example.com`],
    ['a key with slashes', `x@${key.slice(0, 40)}/${key.slice(40)}`],
  ])('does not quote %s', (_label, raw) => {
    const { problems } = normaliseEmailIdentity(raw);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).not.toContain(key.slice(16, 32));
  });
});

describe('a name of plain ASCII labels is normalised without the IDNA tables', () => {
  // UTS #46 as the request model applies it to a whole name.
  const uts46 = (name: string) =>
    toASCII(name, {
      useSTD3ASCIIRules: true,
      transitionalProcessing: false,
      checkHyphens: false,
      checkJoiners: true,
      checkBidi: true,
    });
  const plainLabel = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
  const plainName = fc
    .array(plainLabel, { minLength: 1, maxLength: 4 })
    .map((labels) => `${labels.join('.')}.com`);

  it('gives the name UTS #46 gives, for any letters-digits-hyphens name', () => {
    fc.assert(
      fc.property(plainName, (name) => {
        expect(normaliseDomain(name)).toBe(uts46(name));
      }),
    );
  });

  it.each([
    ['hyphens in the third and fourth places', 'ab--cd.example.com'],
    ['upper case', 'Mail.Example.COM'],
    ['a trailing dot', 'example.com.'],
  ])('gives the name UTS #46 gives with %s', (_, raw) => {
    expect(normaliseDomain(raw)).toBe(uts46(raw.toLowerCase().replace(/\.$/, '')));
  });

  it('still checks an A-label with the tables: a bad one is refused', () => {
    expect(normaliseDomain('xn--mnchen-3ya.example.com')).toBe('xn--mnchen-3ya.example.com');
    expect(normaliseEmailIdentity('xn--a.example.com').problems).toEqual([
      expect.stringMatching(/not a valid A-label/),
    ]);
  });
});
