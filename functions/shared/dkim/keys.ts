import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { DkimKeyLength } from '#shared/workflow/types.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The RSA sizes SES accepts for a BYODKIM signing key (CreateEmailIdentity documentation). */
export const MIN_DKIM_KEY_BITS = 1024;
export const MAX_DKIM_KEY_BITS = 2048;

// SES's own pattern for DomainSigningPrivateKey (botocore sesv2 model, shape PrivateKey).
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const MAX_PRIVATE_KEY_LENGTH = 20480;

const KEY_BITS: Record<DkimKeyLength, number> = { RSA_1024_BIT: 1024, RSA_2048_BIT: 2048 };

/** A BYODKIM key pair in the encodings SES and DNS want. */
export interface DkimKeyPair {
  /** Base64 of the PKCS#1 DER private key, as SES's DomainSigningPrivateKey expects. */
  privateKey: string;
  /** Base64 of the SubjectPublicKeyInfo DER public key: the `p=` of the DKIM TXT record. */
  publicKey: string;
}

/** What a supplied private key turned out to be, or why it is not usable; never the key itself. */
export type PrivateKeyInspection =
  | { ok: true; bits: number; publicKey: string }
  | { ok: false; reason: string };

/**
 * Generates an RSA key pair for BYODKIM (2048 bits unless asked). The private half goes to SES
 * only; the caller must not log or return it.
 */
export async function generateDkimKeyPair(
  keyLength: DkimKeyLength = 'RSA_2048_BIT',
): Promise<DkimKeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: KEY_BITS[keyLength],
    publicExponent: 0x10001,
  });
  return {
    // PKCS#1 is what `openssl genrsa` printed for years and what the SES guide's examples strip
    // to base64; SES accepts PKCS#8 too.
    privateKey: privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    publicKey: spkiBase64(publicKey),
  };
}

/**
 * Checks a base64 private key the way SES will (RSA, 1024 to 2048 bits, PKCS#1 or PKCS#8 DER)
 * and derives its public key. Reasons never quote the key.
 */
export function inspectPrivateKey(privateKeyBase64: string): PrivateKeyInspection {
  if (privateKeyBase64.length > MAX_PRIVATE_KEY_LENGTH) {
    return {
      ok: false,
      reason: `is ${privateKeyBase64.length} characters long; SES accepts at most ${MAX_PRIVATE_KEY_LENGTH}`,
    };
  }
  if (!BASE64.test(privateKeyBase64)) {
    return {
      ok: false,
      reason: privateKeyBase64.includes('-----BEGIN')
        ? 'is PEM; SES wants only the base64 between the BEGIN and END lines, on one line'
        : 'must be base64 (letters, digits, + and /, up to two = at the end) with no line breaks or spaces',
    };
  }
  const key = decodePrivateKey(privateKeyBase64);
  if (key === undefined) {
    return {
      ok: false,
      reason: 'does not decode to an unencrypted private key in PKCS#1 or PKCS#8 DER',
    };
  }
  if (key.asymmetricKeyType !== 'rsa') {
    return { ok: false, reason: `is a key of type ${key.asymmetricKeyType}; SES needs an RSA key` };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_DKIM_KEY_BITS || bits > MAX_DKIM_KEY_BITS) {
    return {
      ok: false,
      reason: `is a ${bits}-bit RSA key; SES accepts ${MIN_DKIM_KEY_BITS} to ${MAX_DKIM_KEY_BITS} bits`,
    };
  }
  return { ok: true, bits, publicKey: spkiBase64(createPublicKey(key)) };
}

/**
 * The base64 SubjectPublicKeyInfo of a base64 PKCS#1 or PKCS#8 DER private key. Throws a plain
 * Error (never quoting the key) when the key cannot be read; validate with
 * {@link inspectPrivateKey} first.
 */
export function publicKeyFromPrivateKey(privateKeyBase64: string): string {
  const key = decodePrivateKey(privateKeyBase64);
  if (key === undefined) {
    throw new Error('The private key is not PKCS#1 or PKCS#8 DER in base64');
  }
  return spkiBase64(createPublicKey(key));
}

/** The modulus length in bits of a base64 DER RSA private key, or undefined when unreadable. */
export function privateKeyBits(privateKeyBase64: string): number | undefined {
  return decodePrivateKey(privateKeyBase64)?.asymmetricKeyDetails?.modulusLength;
}

/** The SES key-length name for a key size, when SES has one (1024 and 2048 bits). */
export function keyLengthForBits(bits: number): DkimKeyLength | null {
  if (bits === 1024) return 'RSA_1024_BIT';
  if (bits === 2048) return 'RSA_2048_BIT';
  return null;
}

function decodePrivateKey(privateKeyBase64: string): KeyObject | undefined {
  const der = Buffer.from(privateKeyBase64, 'base64');
  for (const type of ['pkcs8', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // Not this encoding; try the next one. The error text is not kept: it could quote bytes.
    }
  }
  return undefined;
}

function spkiBase64(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Belt and braces: should a service ever echo a private key in an error, it goes no further. */
export function scrubPrivateKey(error: unknown, privateKey: string): void {
  if (!(error instanceof Error)) return;
  error.message = error.message.replaceAll(privateKey, '[private key]');
  if (error.stack !== undefined) error.stack = error.stack.replaceAll(privateKey, '[private key]');
}
