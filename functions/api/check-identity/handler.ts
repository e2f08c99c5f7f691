import { probeOptionsFromEnv } from '#shared/dns/probe-config.js';
import { apiHandler, pathIdentity } from '#shared/http/index.js';
import { requireEnv } from '#shared/runtime/config.js';
import { checkIdentityNow } from './check-identity.js';

const config = {
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
  probe: probeOptionsFromEnv(),
};

/** POST /identities/{identity}/check: 200 with each record as DNS holds it now; wakes the waiting run. */
export const handler = apiHandler(async (event) => ({
  status: 200,
  data: await checkIdentityNow(pathIdentity(event), config),
}));
