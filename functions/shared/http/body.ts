import { type JSONPath, printParseErrorCode, visit } from 'jsonc-parser';
import { capFieldIssues, fieldPath } from '#shared/request/issues.js';
import { describeCharacter, quoted } from '#shared/request/quote.js';
import type { FieldIssue } from '#shared/workflow/errors.js';
import { HttpError } from './errors.js';

/**
 * Largest request body we accept, in bytes (after base64 decoding). A request with 50 tags at
 * their maximum length and a 2048-bit key is about 25 KB; 64 KiB leaves room for that and keeps
 * the execution input far below Step Functions' 256 KiB limit.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** Deepest nesting of arrays and objects accepted; a request nests four levels at most. */
export const MAX_BODY_DEPTH = 32;

/** The part of an API Gateway event (REST or HTTP API, payload 1.0 or 2.0) a body parser needs. */
export interface HttpRequestLike {
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** Case-insensitive header look-up: REST APIs keep the caller's case, HTTP APIs lower-case it. */
export function headerValue(event: HttpRequestLike, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** `application/json`, `application/json; charset=utf-8`, or a `+json` type such as `application/merge+json`. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

function invalid(message: string, options?: ErrorOptions): HttpError {
  return new HttpError(
    'VALIDATION_ERROR',
    `The body ${message}`,
    [{ field: 'body', message }],
    options,
  );
}

// Strict UTF-8: a byte sequence that is not UTF-8 is refused rather than silently replaced with
// U+FFFD. `ignoreBOM: false` (the default) consumes a leading byte order mark, which RFC 8259 §8.1
// lets a parser ignore and some Windows tools still write.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw invalid('is not valid UTF-8 (JSON text is UTF-8, RFC 8259 §8.1)');
  }
}

// Keyed by jsonc-parser's error names (its ParseErrorCode is a const enum that isolated modules
// cannot read).
const SYNTAX_PROBLEMS: Record<string, string> = {
  InvalidSymbol: 'an unexpected character',
  InvalidNumberFormat: 'a number that is not written as JSON writes numbers',
  PropertyNameExpected: 'a name in double quotes was expected',
  ValueExpected: 'a value was expected',
  ColonExpected: 'a colon was expected',
  CommaExpected: 'a comma was expected',
  CloseBraceExpected: 'a closing brace was expected',
  CloseBracketExpected: 'a closing bracket was expected',
  EndOfFileExpected: 'there is more text after the JSON value',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'comments are not JSON',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'a \\u escape is not four hexadecimal digits',
  InvalidEscapeCharacter: 'a backslash escape that JSON does not have',
  InvalidCharacter: 'a control character inside a string must be escaped',
};

/**
 * What is wrong with text that JSON.parse refused, and where (line and column, 1-based), found
 * with jsonc-parser in its strict mode. Never the parser's own message: V8 quotes the input in
 * it, and the input may hold a private key. At most one character of the body is named.
 */
function syntaxProblem(text: string): string {
  let found: string | undefined;
  visit(
    text,
    {
      onError: (code, offset, _length, line, column) => {
        if (found !== undefined) return;
        const name = printParseErrorCode(code);
        let what = SYNTAX_PROBLEMS[name] ?? 'it is not valid JSON';
        const codePoint = text.codePointAt(offset);
        if (name === 'InvalidSymbol' && codePoint !== undefined) {
          what = `${what} ${describeCharacter(String.fromCodePoint(codePoint))}`;
        }
        found = `${what} at line ${line + 1}, column ${column + 1}`;
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return found ?? 'it is not valid JSON';
}

/** How deeply arrays and objects nest in a parsed value, counted without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Names that appear more than once in one object, at their paths. JSON.parse keeps the last
 * silently (RFC 8259 §4 leaves the meaning to the receiver), so a platform that checked the first
 * `EmailIdentity` would see us verify the second.
 */
function duplicateNames(text: string): FieldIssue[] {
  const duplicates: FieldIssue[] = [];
  const names: Set<string>[] = [];
  visit(text, {
    onObjectBegin: () => {
      names.push(new Set());
    },
    onObjectEnd: () => {
      names.pop();
    },
    onObjectProperty: (name, _offset, _length, _line, _column, pathSupplier) => {
      const seen = names.at(-1);
      if (seen === undefined) return;
      if (seen.has(name)) {
        const path: JSONPath = [...pathSupplier(), name];
        duplicates.push({
          field: fieldPath(path),
          message: 'appears more than once in its object; give each field once',
        });
      }
      seen.add(name);
    },
  });
  return duplicates;
}

/**
 * Reads a JSON request body: 415 when the Content-Type is not JSON, 413 when the body is over
 * `maxBytes`, 400 VALIDATION_ERROR when it is not UTF-8, not JSON (saying what and where),
 * nested deeper than {@link MAX_BODY_DEPTH}, or names a field twice in one object. A leading
 * byte order mark is ignored. No message quotes more than a short, cut prefix of the input.
 */
export function parseJsonBody(event: HttpRequestLike, maxBytes = MAX_BODY_BYTES): unknown {
  const contentType = headerValue(event, 'content-type');
  if (!isJsonMediaType(contentType)) {
    throw new HttpError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json, got ${contentType === undefined ? 'none' : quoted(contentType)}`,
    );
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpError(
      'PAYLOAD_TOO_LARGE',
      `The body is ${bytes.length} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  const text = decodeUtf8(bytes);
  if (text.trim() === '') {
    throw new HttpError('VALIDATION_ERROR', 'The body is empty', [
      { field: 'body', message: 'A JSON object is required' },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`is not valid JSON: ${syntaxProblem(text)}`, {
      cause: new Error('JSON.parse failed'),
    });
  }
  // Checked on the parsed value first, so that the recursive scan below never meets deep nesting.
  if (depthOf(value) > MAX_BODY_DEPTH) {
    throw invalid(`has arrays or objects nested more than ${MAX_BODY_DEPTH} levels deep`);
  }
  const duplicates = duplicateNames(text);
  if (duplicates.length > 0) {
    throw new HttpError(
      'VALIDATION_ERROR',
      'The body names a field more than once',
      capFieldIssues(duplicates),
    );
  }
  return value;
}
