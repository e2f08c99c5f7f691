import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** How many consecutive characters of a key's base64 body count as the key. */
const WINDOW = 16;

/** Runs of base64 (and base64url) text, where a key would show. */
const BASE64_RUN = /[A-Za-z0-9+/=_-]{16,}/g;

function windowsOf(body: string): string[] {
  const windows: string[] = [];
  for (let i = 0; i + WINDOW <= body.length; i += 1) windows.push(body.slice(i, i + WINDOW));
  return windows;
}

/** The key as a private KeyObject, when it parses as one (PEM, or base64 DER PKCS#1 or PKCS#8). */
function privateKeyOf(secret: string): KeyObject | undefined {
  const attempts = secret.includes('-----BEGIN')
    ? [() => createPrivateKey(secret)]
    : (['pkcs1', 'pkcs8'] as const).map(
        (type) => () =>
          createPrivateKey({
            key: Buffer.from(secret.replace(/\s/g, ''), 'base64'),
            format: 'der',
            type,
          }),
      );
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch {
      // Not this encoding.
    }
  }
  return undefined;
}

/**
 * Keeps the private keys the CLI was given out of everything it prints. The API never echoes a
 * key; this is the CLI's own guarantee, whatever answers it: any run of base64 text that holds 16
 * consecutive characters of a key (a whole, cut or re-wrapped key) is replaced. The key's public
 * half (the modulus a BYODKIM TXT record publishes shows in the private key's base64 too) is not
 * secret, so runs of it are left alone.
 */
export class Redactor {
  private readonly windows = new Set<string>();

  /** Remembers a key (PEM or base64) so that no part of it is ever printed. */
  add(secret: string): void {
    const body = secret.replace(/-----[^-]+-----|\s/g, '');
    const key = privateKeyOf(secret);
    const publicWindows = new Set<string>();
    if (key !== undefined) {
      const publicKey = createPublicKey(key);
      for (const type of ['spki', 'pkcs1'] as const) {
        for (const window of windowsOf(
          publicKey.export({ type, format: 'der' }).toString('base64'),
        )) {
          publicWindows.add(window);
        }
      }
    }
    for (const window of windowsOf(body)) {
      if (!publicWindows.has(window)) this.windows.add(window);
    }
  }

  redact(text: string): string {
    if (this.windows.size === 0) return text;
    return text.replace(BASE64_RUN, (run) => {
      for (const window of windowsOf(run)) {
        if (this.windows.has(window)) return '[private key withheld]';
      }
      return run;
    });
  }
}
