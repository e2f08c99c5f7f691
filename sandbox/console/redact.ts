/**
 * The console's guard against showing a private key. No execution history of the sandbox holds
 * one (the API and the starter put keys in Secrets Manager and pass the secret's ARN), but a run
 * started by hand through Step Functions could, so every value the console serves or draws goes
 * through here first. Pure, without Node's modules: the page runs it too, on what it renders.
 */

export const HIDDEN_KEY = '[private key hidden]';

/** Field names that say "a private key" in any case or spelling: privateKey, private_key... */
const KEY_FIELD = /private[\W_]*key/i;
/** ...but not the field that names a secret holding one. */
const SECRET_REFERENCE = /secret[\W_]*arn$/i;
/** A PEM block of any private key, with or without its END line (a cut one is still a key). */
const PEM_PRIVATE_KEY =
  /-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|$)/g;
/**
 * A run of base64 this long is a key or something as long as one: a DER RSA key of 1024 bits is
 * over 600 characters, while the longest value the workflow shows, a 2048-bit public key in a
 * DKIM TXT record, is 392, and a task token 130.
 */
const LONG_BASE64 = /[A-Za-z0-9+/]{600,}={0,2}/g;

/** `text` with every private key in it, PEM or long base64, replaced by HIDDEN_KEY. */
export function redactText(text: string): string {
  return text.replace(PEM_PRIVATE_KEY, HIDDEN_KEY).replace(LONG_BASE64, HIDDEN_KEY);
}

/**
 * A copy of `value` with no private key in it: a field whose name says private key keeps its
 * name and loses its value; any string is passed through `redactText`. Strings that hold JSON
 * (a history event's input and output) are best parsed before, so that field names count.
 */
export function redactKeys(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any state's data: hide it rather than walk it.
  if (depth > 64) return HIDDEN_KEY;
  if (Array.isArray(value)) return value.map((item) => redactKeys(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) {
    const hide =
      KEY_FIELD.test(field) &&
      !SECRET_REFERENCE.test(field) &&
      item !== null &&
      item !== undefined &&
      item !== '';
    copy[redactText(field)] = hide ? HIDDEN_KEY : redactKeys(item, depth + 1);
  }
  return copy;
}

/** A JSON text as a value with no key in it; text that is not JSON is redacted as text. */
export function redactJsonText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return redactKeys(JSON.parse(text));
  } catch {
    return redactText(text);
  }
}
