/**
 * How messages refer to what a caller sent. A message may quote only a short, cut prefix of an
 * input, so that a key pasted into the wrong field (or the wrong URL) never comes back in a
 * response, a log line or an event; a single character is named with its code point.
 */

/** Longest input quoted whole; anything longer is cut to {@link CUT_TO} characters and "…". */
export const MAX_QUOTED_CHARACTERS = 16;
const CUT_TO = 12;

/** `"text"` for short text, `"first twelve…"` for longer text (counted in code points). */
export function quoted(text: string): string {
  const characters = [...text];
  const shown =
    characters.length <= MAX_QUOTED_CHARACTERS ? text : `${characters.slice(0, CUT_TO).join('')}…`;
  return JSON.stringify(shown);
}

// Characters people cannot see, or cannot tell apart from others, named in words.
const NAMES: Record<number, string> = {
  9: 'a tab',
  10: 'a line feed',
  13: 'a carriage return',
  32: 'a space',
  160: 'a no-break space',
  173: 'a soft hyphen',
  8203: 'a zero-width space',
  8204: 'a zero-width non-joiner',
  8205: 'a zero-width joiner',
  8288: 'a word joiner',
  65279: 'a zero-width no-break space (byte order mark)',
};

// Control, format, separator, surrogate, private-use and unassigned code points print as nothing
// useful (or as something else), so they are named by code point only.
const UNPRINTABLE = /^[\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Co}\p{Cn}]$/u;

/** `U+002F`: the code point of a one-character string (an unpaired surrogate included). */
export function codePointOf(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Names one character for a message: `"/" (U+002F)`, `a zero-width space (U+200B)`, or
 * `the character U+0000` for one that would not print.
 */
export function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const point = codePointOf(character);
  const name = NAMES[code];
  if (name !== undefined) return `${name} (${point})`;
  if (UNPRINTABLE.test(character)) return `the character ${point}`;
  return `${JSON.stringify(character)} (${point})`;
}

/** `12,345`: counts in messages, grouped the same way wherever the code runs. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
