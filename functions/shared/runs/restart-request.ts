import type { RunOperation } from '#shared/registry/items.js';
import type { IdentityRequest } from '#shared/request/index.js';

/** What a run leaves in the registry for the sweeper's automatic restart. */
export interface RestartSettings {
  /** The request's AutoRestart (true when absent); null: keep what the identity had. */
  auto_restart: boolean | null;
  /** The creation request a restart sends again; null: none (a DKIM change replaced it). */
  restart_request: IdentityRequest | null;
}

/**
 * The registry's restart settings for a run: a creation keeps its request (without a key) and
 * its AutoRestart; a DKIM change keeps AutoRestart but drops the request, which no longer
 * matches how the identity signs; offboarding changes nothing (undefined).
 */
export function restartSettingsFor(
  operation: RunOperation,
  request: IdentityRequest | undefined,
): RestartSettings | undefined {
  if (operation === 'DeleteIdentity') return undefined;
  if (operation === 'ChangeDkimSigning' || request === undefined) {
    return { auto_restart: null, restart_request: null };
  }
  return { auto_restart: request.AutoRestart ?? true, restart_request: restartRequestOf(request) };
}

/**
 * The creation request as a restart would send it again, without a key in any form: a supplied
 * key's secret is deleted once SES holds the key, and a private key never enters the registry.
 * A restart that needs the key says so instead.
 */
export function restartRequestOf(request: IdentityRequest): IdentityRequest {
  const signing = request.DkimSigningAttributes;
  if (
    signing?.DomainSigningPrivateKey === undefined &&
    signing?.DomainSigningPrivateKeySecretArn === undefined
  ) {
    return request;
  }
  const {
    DomainSigningPrivateKey: _key,
    DomainSigningPrivateKeySecretArn: _secret,
    ...rest
  } = signing;
  return { ...request, DkimSigningAttributes: rest };
}
