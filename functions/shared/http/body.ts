import { HttpError } from './errors.js';

/**
 * Largest request body we accept, in bytes (after base64 decoding). A request with 50 tags at
 * their maximum length and a 2048-bit key is about 25 KB; 64 KiB leaves room for that and keeps
 * the execution input far below Step Functions' 256 KiB limit.
 */
export const MAX_BODY_BYTES = 64 * 1024;

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

/**
 * Reads a JSON request body: 415 when the Content-Type is not JSON, 413 when the body is over
 * `maxBytes`, 400 VALIDATION_ERROR when it does not parse. The parser's own message is not
 * passed on: V8 quotes the input in it, and the input may hold a private key.
 */
export function parseJsonBody(event: HttpRequestLike, maxBytes = MAX_BODY_BYTES): unknown {
  const contentType = headerValue(event, 'content-type');
  if (!isJsonMediaType(contentType)) {
    throw new HttpError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json, got ${contentType === undefined ? 'none' : JSON.stringify(contentType.slice(0, 100))}`,
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
  const text = bytes.toString('utf8');
  if (text.trim() === '') {
    throw new HttpError('VALIDATION_ERROR', 'The body is empty', [
      { field: 'body', message: 'A JSON object is required' },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    const where = position === undefined ? '' : ` near position ${position}`;
    throw new HttpError(
      'VALIDATION_ERROR',
      `The body is not valid JSON${where}`,
      [{ field: 'body', message: `Malformed JSON${where}` }],
      { cause: new Error('JSON.parse failed') },
    );
  }
}
