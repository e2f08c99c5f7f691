import { integerEnv, listEnv, optionalEnv } from '#shared/runtime/config.js';
import type { ProbeOptions } from './probe.js';

/**
 * The probe's settings from the function's environment: resolvers (empty: the system's),
 * timeouts, and whether to ask the domain's authoritative servers too (on port 53; the sandbox
 * serves its own).
 */
export function probeOptionsFromEnv(): Omit<ProbeOptions, 'domain' | 'zoneName'> {
  return {
    resolvers: listEnv('DNS_RESOLVERS'),
    timeoutMs: integerEnv('DNS_QUERY_TIMEOUT_MS', 2000),
    totalTimeoutMs: integerEnv('DNS_PROBE_TIMEOUT_MS', 10_000),
    queryAuthoritative: optionalEnv('DNS_QUERY_AUTHORITATIVE') !== 'false',
    authoritativePort: integerEnv('DNS_AUTHORITATIVE_PORT', 53),
  };
}
