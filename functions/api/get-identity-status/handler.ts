import { apiHandler, pathIdentity } from '#shared/http/index.js';
import { integerEnv, optionalEnv, requireEnv } from '#shared/runtime/config.js';
import { getIdentityStatus } from './get-identity-status.js';

const config = {
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  recordTtl:
    optionalEnv('DNS_RECORD_TTL') === undefined ? undefined : integerEnv('DNS_RECORD_TTL', 1),
};

/** GET /identities/{identity}: 200 with SES's state, the expected records and the latest run. */
export const handler = apiHandler(async (event) => ({
  status: 200,
  data: await getIdentityStatus(pathIdentity(event), config),
}));
