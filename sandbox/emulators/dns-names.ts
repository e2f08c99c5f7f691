/** DNS name helpers shared by the Route 53 emulator, the DNS server and the SES checks. */

/** Lower case with exactly one trailing dot, as Route 53 returns names. */
export function fqdn(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Lower case without the trailing dot, as resolvers and SES print names. */
export function bareName(name: string): string {
  return fqdn(name).slice(0, -1);
}

/** True when `name` is `zone` itself or a name below it (both fully qualified). */
export function isWithin(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * The key Route 53 sorts names by: labels reversed, with the trailing dot (`com.example.www.`),
 * compared in ASCII order (`compareAscii`). The dot decides where a label holds a character that
 * sorts before it: `mail-2.example.com` lists before `mail.example.com`. ("Sort order" of
 * ListResourceRecordSets and ListHostedZonesByName in the Route 53 API Reference.)
 */
export function reversedLabels(name: string): string {
  return `${bareName(name).split('.').reverse().join('.')}.`;
}

/** ASCII (code unit) order, Route 53's: not a locale's, which sets punctuation aside. */
export function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LABEL = /^(?!-)[a-z0-9_*-]{1,63}(?<!-)$/;

/** A syntactically valid domain name (labels of letters, digits, hyphens, underscores). */
export function isValidDomainName(name: string): boolean {
  const bare = bareName(name);
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => LABEL.test(label));
}

/**
 * Splits a Route 53 TXT value into its character-strings: `"a" "b"` is two strings, `\"` and
 * `\\` are escapes, and unquoted words are strings of their own (as Route 53 reads them).
 */
export function parseTxtValue(value: string): string[] {
  const strings: string[] = [];
  let i = 0;
  while (i < value.length) {
    const ch = value[i] as string;
    if (ch === ' ' || ch === '\t') {
      i += 1;
      continue;
    }
    let current = '';
    if (ch === '"') {
      i += 1;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i += 1;
        current += value[i];
        i += 1;
      }
      i += 1; // closing quote
    } else {
      while (i < value.length && value[i] !== ' ' && value[i] !== '\t') {
        current += value[i];
        i += 1;
      }
    }
    strings.push(current);
  }
  return strings;
}
