import { apiHandler } from '#shared/http/index.js';
import { requireEnv } from '#shared/runtime/config.js';
import { listIdentityPage } from './list-identities.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');

/** GET /identities: 200 with a page of the identities the stack manages. */
export const handler = apiHandler(async (event) => ({
  status: 200,
  data: await listIdentityPage(event.queryStringParameters ?? {}, registryTable),
}));
