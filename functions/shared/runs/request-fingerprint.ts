import { identityTypeOf } from '#shared/request/identity-name.js';
import type { DkimChangeRequest, IdentityRequest } from '#shared/request/index.js';
import { canonicalJson, sha256Hex } from './execution-names.js';

/** The key length SES (and our key generation) uses when a request names none. */
const DEFAULT_KEY_LENGTH = 'RSA_2048_BIT';

/**
 * A request as it will act: the defaults the steps apply written out, what means nothing left
 * out (an empty tag list, an empty `Dns`), and tags in key order, so that two requests that do
 * the same thing compare equal however they were written.
 */
export function normaliseForComparison(
  request: IdentityRequest | DkimChangeRequest,
): Record<string, unknown> {
  if ('SigningAttributesOrigin' in request) return normaliseChange(request);
  const { Tags, Dns, DkimSigningAttributes, Replicas, AutoRestart, ...rest } = request;
  const normalised: Record<string, unknown> = { ...rest };
  // A set of Regions: the order they were listed in changes nothing.
  if (Replicas !== undefined && Replicas.length > 0) normalised.Replicas = [...Replicas].sort();
  // On by default: only turning it off makes another request.
  if (AutoRestart === false) normalised.AutoRestart = false;
  if (Tags !== undefined && Tags.length > 0) {
    normalised.Tags = [...Tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
  }
  const dns = normaliseDns(Dns);
  if (dns !== undefined) normalised.Dns = dns;
  if (identityTypeOf(request.EmailIdentity) === 'DOMAIN') {
    normalised.DkimSigningAttributes = normaliseSigning(DkimSigningAttributes);
  }
  return normalised;
}

function normaliseChange(request: DkimChangeRequest): Record<string, unknown> {
  const { Dns, SigningAttributes, ...rest } = request;
  const normalised: Record<string, unknown> = { ...rest };
  const dns = normaliseDns(Dns);
  if (dns !== undefined) normalised.Dns = dns;
  if (SigningAttributes !== undefined) {
    const signing = { ...SigningAttributes };
    if (signing.GenerateDomainSigningKey !== undefined) {
      signing.GenerateDomainSigningKey = {
        KeyLength: signing.GenerateDomainSigningKey.KeyLength ?? DEFAULT_KEY_LENGTH,
      };
    }
    normalised.SigningAttributes = signing;
  }
  return normalised;
}

function normaliseDns(dns: IdentityRequest['Dns']): IdentityRequest['Dns'] | undefined {
  if (dns === undefined) return undefined;
  const present = Object.fromEntries(Object.entries(dns).filter(([, v]) => v !== undefined));
  return Object.keys(present).length === 0 ? undefined : present;
}

/** Easy DKIM at 2048 bits unless said otherwise; a generated key at 2048 bits unless said. */
function normaliseSigning(
  signing: IdentityRequest['DkimSigningAttributes'],
): IdentityRequest['DkimSigningAttributes'] {
  if (signing === undefined) return { NextSigningKeyLength: DEFAULT_KEY_LENGTH };
  if (signing.GenerateDomainSigningKey !== undefined) {
    return {
      ...signing,
      GenerateDomainSigningKey: {
        KeyLength: signing.GenerateDomainSigningKey.KeyLength ?? DEFAULT_KEY_LENGTH,
      },
    };
  }
  if (signing.DomainSigningSelector === undefined && signing.NextSigningKeyLength === undefined) {
    return { ...signing, NextSigningKeyLength: DEFAULT_KEY_LENGTH };
  }
  return signing;
}

/**
 * What makes two requests "the same request": a hash of the normalised request. A supplied
 * private key must already be replaced by its fingerprint or its secret's ARN removed; see
 * runs/start-run for how the API and the workflow each call this.
 */
export function requestFingerprint(request: IdentityRequest | DkimChangeRequest): string {
  return sha256Hex(canonicalJson(normaliseForComparison(request)));
}
