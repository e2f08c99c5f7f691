/**
 * Counts, as real work for the virtual clock, what the steps and emulators do outside an SDK
 * client: DNS queries through `node:dns` resolvers (the steps' probe, the emulated SES's checks)
 * and RSA key generation. Patched when this module is first imported, which must happen before
 * the modules that bind those functions at their own load (`promisify(generateKeyPair)`): the
 * CLI and the stack import it first. With no clock installed the wrappers only pass through.
 */
import crypto from 'node:crypto';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { activeClock } from '#sandbox/clock.js';

const resolverProto = dns.promises.Resolver.prototype as unknown as Record<string, unknown>;
for (const method of Object.getOwnPropertyNames(resolverProto)) {
  if (!/^(resolve|reverse)/.test(method)) continue;
  const original = resolverProto[method];
  if (typeof original !== 'function') continue;
  resolverProto[method] = function tracked(this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args) as Promise<unknown>;
    return activeClock()?.track(result) ?? result;
  };
}

const cryptoModule = crypto as unknown as Record<string, unknown>;
const generateKeyPair = cryptoModule.generateKeyPair as (...args: unknown[]) => void;
const trackedGenerateKeyPair = function tracked(...args: unknown[]) {
  const release = activeClock()?.busy();
  const callback = args.at(-1);
  if (release && typeof callback === 'function') {
    args[args.length - 1] = (...results: unknown[]) => {
      release();
      (callback as (...r: unknown[]) => void)(...results);
    };
  }
  return generateKeyPair(...args);
};
// Keep util.promisify's hints (it resolves to `{ publicKey, privateKey }` through them).
for (const symbol of Object.getOwnPropertySymbols(generateKeyPair)) {
  Object.defineProperty(
    trackedGenerateKeyPair,
    symbol,
    Object.getOwnPropertyDescriptor(generateKeyPair, symbol) as PropertyDescriptor,
  );
}
cryptoModule.generateKeyPair = trackedGenerateKeyPair;
// ESM named imports of builtins (`import { generateKeyPair } from 'node:crypto'`) follow this.
syncBuiltinESMExports();
