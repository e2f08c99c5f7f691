import { inspectPrivateKey } from '#shared/dkim/keys.js';
import { fieldPath } from '#shared/request/issues.js';

/** Field names that say "a private key" in any case or spelling: privateKey, domain_signing_private_key... */
const KEY_FIELD = /private[\W_]*key/i;
/** ...but not the field that names a secret holding one. */
const SECRET_REFERENCE = /secret[\W_]*arn$/i;
const PEM = /-----BEGIN[A-Z ]*PRIVATE KEY-----/;
/** A DER RSA key of 1024 bits is over 600 characters of base64. */
const LONG_BASE64 = /^[A-Za-z0-9+/]{600,}={0,2}$/;
const MAX_DEPTH = 32;

/**
 * Where in an event a private key was found: a path to show, never the key, nor any field name
 * on the way that could be one (such names are cut, as in every other field path we show).
 */
export interface KeyFinding {
  path: string;
}

/**
 * Finds a private key anywhere in an onboarding event's detail, whatever its shape: under any
 * field whose name says private key (any case, any nesting, at the top), or as any string value
 * that is one (PEM, or base64 DER that parses as a private key). The event must then start no
 * run: an event's detail would become the execution's input, kept in its history and logs.
 */
export function findPrivateKey(detail: unknown): KeyFinding | undefined {
  const found = (path: PropertyKey[]) => ({ path: fieldPath(path) });
  const visit = (value: unknown, path: PropertyKey[], depth: number): KeyFinding | undefined => {
    if (depth > MAX_DEPTH) return found(path);
    if (typeof value === 'string') return looksLikePrivateKey(value) ? found(path) : undefined;
    if (value === null || typeof value !== 'object') return undefined;
    const entries: [PropertyKey, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    for (const [key, item] of entries) {
      const childPath = [...path, key];
      if (
        typeof key === 'string' &&
        KEY_FIELD.test(key) &&
        !SECRET_REFERENCE.test(key) &&
        item !== null &&
        item !== undefined &&
        item !== ''
      ) {
        return found(childPath);
      }
      const inner = visit(item, childPath, depth + 1);
      if (inner !== undefined) return inner;
    }
    return undefined;
  };
  return visit(detail, [], 0);
}

function looksLikePrivateKey(text: string): boolean {
  if (PEM.test(text)) return true;
  return LONG_BASE64.test(text) && inspectPrivateKey(text).ok;
}
