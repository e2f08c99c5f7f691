import { toASCII, toUnicode } from 'tr46';
import type { IdentityType } from '#shared/workflow/types.js';
import { describeCharacter, formatCount, quoted } from './quote.js';

const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const MAX_LOCAL_PART_LENGTH = 64;
// RFC 5321: a forward path is at most 256 octets, two of which are the angle brackets.
const MAX_ADDRESS_LENGTH = 254;
// RFC 5322 atext: SES sends to ordinary mailboxes, quoted local parts are not worth the risk.
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]$/;
const LDH_CHARACTER = /^[a-z0-9.-]$/;

// UTS #46 (tr46): nontransitional, so ß and ς stay themselves, as IDNA2008 and SES's DNS want.
const IDNA = { useSTD3ASCIIRules: true, transitionalProcessing: false } as const;
const IDNA_LABEL = { ...IDNA, checkHyphens: true, checkJoiners: true } as const;
const IDNA_NAME = { ...IDNA, checkHyphens: false, checkJoiners: true, checkBidi: true } as const;

/** An identity is an email address when it has an `@`; anything else is meant as a domain. */
export function identityTypeOf(emailIdentity: string): IdentityType {
  return emailIdentity.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN';
}

/** A name as normalised, with every problem found (when there are any, `value` is not usable). */
export interface NameCheck {
  value: string;
  problems: string[];
}

/**
 * The mapping IDNA2008 itself describes for user input (RFC 5895): upper case to lower case,
 * full-width and half-width forms to their ordinary ones, and the ideographic full stops to ".".
 * Nothing else is mapped: UTS #46 would also drop invisible characters (a zero-width space, a
 * soft hyphen) and fold look-alikes ("ℌ" to "h"), which would verify a name other than the one
 * the caller checked. Those are refused instead, by {@link characterProblem}.
 */
function mapForIdna(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  // The Halfwidth and Fullwidth Forms block: NFKC gives exactly their <wide>/<narrow> mapping.
  const unwidened = code >= 0xff01 && code <= 0xffee ? character.normalize('NFKC') : character;
  return unwidened.toLowerCase().replace(/\u3002/g, '.');
}

type CharacterVerdict = { ok: true } | { ok: false; becomes: string | null };

/**
 * Whether a mapped character may stand in a domain name as it is: ASCII letters, digits, hyphen
 * and dot, or a code point UTS #46 keeps unchanged (IDNA2008's PVALID, and the deviations ß, ς,
 * ZWJ and ZWNJ). `becomes` is what IDNA would silently make of it ("" when it drops it, null when
 * it refuses it).
 */
function characterVerdict(mapped: string): CharacterVerdict {
  for (const character of mapped) {
    if ((character.codePointAt(0) ?? 0) < 0x80) {
      if (!LDH_CHARACTER.test(character)) return { ok: false, becomes: null };
      continue;
    }
    // A leading "0" keeps the label-level rules (no combining mark first) out of a per-character test.
    const { domain, error } = toUnicode(`0${character}`, IDNA);
    if (error) return { ok: false, becomes: null };
    if (domain !== `0${character}`) return { ok: false, becomes: domain.slice(1) };
  }
  return { ok: true };
}

function characterProblem(
  character: string,
  position: number,
  becomes: string | null,
  refusal: string,
): string {
  const named = `has ${describeCharacter(character)} at character ${position}`;
  if (becomes === '') {
    return `${named}, which IDNA would drop it without a word; remove it if it is not meant`;
  }
  if (becomes !== null) {
    return `${named}, which is not a character of domain names: IDNA would turn it into ${quoted(becomes)}; write that if it is meant`;
  }
  return `${named}, ${refusal}`;
}

/** The first refused character of `text` named, plus how many more there are; null when none. */
function firstRefusedCharacter(
  text: string,
  offset: number,
  refusal: string,
  verdictOf: (character: string) => CharacterVerdict,
): string | null {
  let first: string | null = null;
  let more = 0;
  let position = offset;
  for (const character of text) {
    position += 1;
    const verdict = verdictOf(character);
    if (verdict.ok) continue;
    if (first === null) first = characterProblem(character, position, verdict.becomes, refusal);
    else more += 1;
  }
  if (first === null || more === 0) return first;
  return `${first} (and ${formatCount(more)} more such character${more === 1 ? '' : 's'})`;
}

/** Why one label (non-empty, of valid characters) is not one IDNA2008 allows; null when fine. */
function labelProblem(label: string, index: number): string | null {
  const named = `label ${index} (${quoted(label)})`;
  // Its characters are checked already: an ASCII label here is letters, digits and hyphens.
  if (/^[a-z0-9-]+$/.test(label)) {
    if (label.startsWith('xn--')) {
      const unicode = toUnicode(label, IDNA_LABEL);
      if (unicode.error || toASCII(unicode.domain, IDNA_LABEL) !== label) {
        return `has ${named}, which is not a valid A-label (the ASCII form of an internationalised label)`;
      }
      return null;
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return `has ${named}, which begins or ends with a hyphen: a label does not begin or end with a hyphen`;
    }
    return null;
  }
  if (toASCII(label, IDNA_LABEL) !== null) return null;
  let why = 'it breaks one of its rules (RFC 5891, RFC 5892)';
  if (/^\p{M}/u.test(label)) why = 'it begins with a combining mark';
  else if (/--/.test([...label].slice(2, 4).join('')))
    why = 'it has hyphens in its third and fourth places';
  else if (label.startsWith('-') || label.endsWith('-')) why = 'it begins or ends with a hyphen';
  else if (/[\u200c\u200d]/.test(label)) why = 'it has a joiner where its script does not use one';
  return `has ${named}, which IDNA2008 does not allow: ${why}`;
}

/**
 * True when every label is letters, digits and hyphens and none is an A-label ("xn--"): UTS #46
 * leaves such a name as it is, so it needs no IDNA tables. Nearly every name is one, and a Lambda
 * build loads tr46 (233 KB of tables) only when a name is not (scripts/build.ts).
 */
function isPlainAsciiName(labels: readonly string[]): boolean {
  return labels.every((label) => /^[a-z0-9-]+$/.test(label) && !label.startsWith('xn--'));
}

/** Why the Bidi rule refuses a name whose labels are each fine; which label, when one alone fails. */
function bidiProblem(labels: string[]): string {
  const index = labels.findIndex((label) => toASCII(label, IDNA_NAME) === null);
  return index >= 0
    ? `has label ${index + 1} (${quoted(labels[index] as string)}), which IDNA2008 does not allow: it breaks the Bidi rule for right-to-left text (RFC 5893)`
    : 'mixes right-to-left and left-to-right labels in a way IDNA2008 does not allow (the Bidi rule, RFC 5893)';
}

/**
 * Checks and normalises a domain name: IDNA2008's own mapping (case, width, ideographic full
 * stops: RFC 5895), NFC, one trailing dot (the DNS root) dropped, internationalised labels in
 * their ASCII (punycode) form, the form SES stores and DNS answers for. Everything else that is
 * not a domain name is refused, naming the first offending character and where it is;
 * `offset` places those positions within a longer input (an address's domain part).
 */
export function checkDomain(raw: string, offset = 0, what = 'a domain name'): NameCheck {
  if (raw === '') return { value: '', problems: ['must not be empty'] };
  const refusal = `which ${what} cannot have: a label has only letters, digits and hyphens (or letters of other scripts)`;
  const refused = firstRefusedCharacter(raw, offset, refusal, (character) =>
    characterVerdict(mapForIdna(character)),
  );
  if (refused !== null) return { value: '', problems: [refused] };

  const mapped = [...raw].map(mapForIdna).join('').normalize('NFC');
  const name = mapped.endsWith('.') ? mapped.slice(0, -1) : mapped;
  const labels = name.split('.');
  if (labels.some((label) => label === '')) {
    return { value: '', problems: ['has an empty label (a leading dot or two dots in a row)'] };
  }
  const labelProblems = labels
    .map((label, i) => labelProblem(label, i + 1))
    .filter((problem): problem is string => problem !== null);
  if (labelProblems.length > 0) return { value: '', problems: labelProblems };

  const ascii = isPlainAsciiName(labels) ? name : toASCII(name, IDNA_NAME);
  if (ascii === null) return { value: '', problems: [bidiProblem(labels)] };
  return { value: ascii, problems: asciiNameProblems(ascii) };
}

/** The DNS limits on a name in its ASCII form, and SES's "a domain, not an address or an IP". */
function asciiNameProblems(ascii: string): string[] {
  const problems: string[] = [];
  if (ascii.length > MAX_DOMAIN_LENGTH) {
    problems.push(
      `is ${ascii.length} characters long in its ASCII form; a domain name has at most ${MAX_DOMAIN_LENGTH}`,
    );
  }
  const labels = ascii.split('.');
  if (labels.length < 2) {
    problems.push('must be a domain name with at least two labels (like example.com)');
  }
  labels.forEach((label, i) => {
    if (label.length > MAX_LABEL_LENGTH) {
      problems.push(
        `has a label of ${label.length} characters (label ${i + 1}); a label has 1 to ${MAX_LABEL_LENGTH}`,
      );
    }
  });
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) {
    problems.push('looks like an IP address; SES verifies domain names only');
  }
  return problems;
}

/**
 * A domain name in the form SES stores and DNS answers for (see {@link checkDomain}), or ''
 * when it is not one.
 */
export function normaliseDomain(name: string): string {
  const { value, problems } = checkDomain(name);
  return problems.length === 0 ? value : '';
}

function localPartProblems(localPart: string): string[] {
  if (localPart === '') return ['is an email address with nothing before the @'];
  const refused = firstRefusedCharacter(
    localPart,
    0,
    'which the local part of an address cannot have unquoted',
    (c) => (ATEXT.test(c) || c === '.' ? { ok: true } : { ok: false, becomes: null }),
  );
  if (refused !== null) return [refused];
  const problems: string[] = [];
  if (localPart.length > MAX_LOCAL_PART_LENGTH) {
    problems.push(
      `has a local part of ${localPart.length} characters; an email address has at most ${MAX_LOCAL_PART_LENGTH} before the @`,
    );
  }
  if (localPart.startsWith('.') || localPart.endsWith('.') || localPart.includes('..')) {
    problems.push('has a local part with a leading, trailing or double dot');
  }
  return problems;
}

/**
 * Normalises an email identity as SES will store it: a domain as {@link checkDomain} does, an
 * address with its domain part normalised and its local part kept exactly as given (local parts
 * may be case-sensitive). Nothing is trimmed or dropped: a name with a character it cannot have
 * is refused, naming the character and its position. Messages never quote more than a short,
 * cut prefix of the input, which may be anything (a key pasted into the wrong field).
 */
export function normaliseEmailIdentity(raw: string): NameCheck {
  if (raw === '') return { value: '', problems: ['must not be empty'] };
  if (identityTypeOf(raw) === 'DOMAIN') return checkDomain(raw);

  const at = raw.lastIndexOf('@');
  const localPart = raw.slice(0, at);
  const domainPart = raw.slice(at + 1);
  const problems = localPartProblems(localPart);
  let domain = '';
  if (domainPart === '') {
    problems.push('is an email address with nothing after the @');
  } else {
    const checked = checkDomain(domainPart, [...localPart].length + 1, 'the domain of an address');
    domain = checked.value;
    problems.push(
      ...checked.problems.map((problem) =>
        problem.startsWith('has ') && / at character \d+/.test(problem)
          ? problem
          : `has a domain part (after the @) that ${problem}`,
      ),
    );
  }
  const value = `${localPart}@${domain}`;
  if (problems.length === 0 && value.length > MAX_ADDRESS_LENGTH) {
    problems.push(
      `is ${value.length} characters long; an email address has at most ${MAX_ADDRESS_LENGTH}`,
    );
  }
  return { value, problems };
}
