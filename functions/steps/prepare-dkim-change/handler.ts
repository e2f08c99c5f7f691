import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { getIdentityItem } from '#shared/registry/registry.js';
import { parseDkimChangeRequest } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger } from '#shared/runtime/observability.js';
import { prepareDkimChange } from './prepare-dkim-change.js';

const registryTable = requireEnv('REGISTRY_TABLE_NAME');
const keySecretPrefix = requireEnv('KEY_SECRET_PREFIX');

/** PrepareDkimChange: the new signing and its records, worked out before SES is switched. */
export const handler = lambdaHandler(
  async (event: { request: unknown; current: SigningSnapshot; execution_id: string }) => {
    const prepared = await prepareDkimChange(
      parseDkimChangeRequest(event.request, { keyDelivery: 'secret' }),
      event.current,
      event.execution_id,
      clock.now(),
      {
        keySecretPrefix,
        registryItem: (identity) => getIdentityItem(registryTable, identity),
      },
    );
    const change = prepared.identity.change;
    logger.info('DKIM change prepared', {
      identity: prepared.identity.identity,
      kind: change?.kind,
      to: { origin: change?.to.origin, selector: change?.to.selector },
      publishFirst: prepared.publish_first,
      staleRecords: change?.stale_records.map((r) => `${r.type} ${r.name}`),
    });
    return prepared;
  },
);
