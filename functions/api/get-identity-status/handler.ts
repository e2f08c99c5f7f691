import { apiHandler, pathIdentity } from '#shared/http/index.js';
import { integerEnv, optionalEnv, requireEnv } from '#shared/runtime/config.js';
import { getIdentityStatus } from './get-identity-status.js';

const config = {
  registryTable: requireEnv('REGISTRY_TABLE_NAME'),
  recordTtl:
    optionalEnv('DNS_RECORD_TTL') === undefined ? undefined : integerEnv('DNS_RECORD_TTL', 1),
};

/** GET /identities/{identity}: 200 with the registry's record of the identity and SES's live view. */
export const handler = apiHandler(async (event) => ({
  status: 200,
  data: await getIdentityStatus(pathIdentity(event), config),
}));
