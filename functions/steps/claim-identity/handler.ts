import { clock } from '#shared/runtime/clock.js';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { type ClaimInput, claimForRun } from './claim-identity.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');

/** ClaimIdentity: validates the request and makes sure this run holds its identity. */
export const handler = lambdaHandler(async (event: ClaimInput) =>
  claimForRun(event, registryTable, clock.now()),
);
