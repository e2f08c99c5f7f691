import { inspectPrivateKey } from '#shared/dkim/keys.js';

/** Field names that say "a private key" in any case or spelling: privateKey, domain_signing_private_key... */
const KEY_FIELD = /private[\W_]*key/i;
/** ...but not the field that names a secret holding one. */
const SECRET_REFERENCE = /secret[\W_]*arn$/i;
const PEM = /-----BEGIN[A-Z ]*PRIVATE KEY-----/;
/** A DER RSA key of 1024 bits is over 600 characters of base64. */
const LONG_BASE64 = /^[A-Za-z0-9+/]{600,}={0,2}$/;
const MAX_DEPTH = 32;

/** Where in an event a private key was found: a path to show, never the key. */
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
  const visit = (value: unknown, path: string, depth: number): KeyFinding | undefined => {
    if (depth > MAX_DEPTH) return { path };
    if (typeof value === 'string') return looksLikePrivateKey(value) ? { path } : undefined;
    if (value === null || typeof value !== 'object') return undefined;
    const entries = Array.isArray(value)
      ? value.map((item, index) => [`[${index}]`, item] as const)
      : Object.entries(value).map(([key, item]) => [key, item] as const);
    for (const [key, item] of entries) {
      const childPath = key.startsWith('[')
        ? `${path}${key}`
        : path === ''
          ? key
          : `${path}.${key}`;
      if (
        !key.startsWith('[') &&
        KEY_FIELD.test(key) &&
        !SECRET_REFERENCE.test(key) &&
        item !== null &&
        item !== undefined &&
        item !== ''
      ) {
        return { path: childPath };
      }
      const found = visit(item, childPath, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(detail, '', 0);
}

function looksLikePrivateKey(text: string): boolean {
  if (PEM.test(text)) return true;
  return LONG_BASE64.test(text) && inspectPrivateKey(text).ok;
}
