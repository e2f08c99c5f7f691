import { parseDkimChangeRequest } from '#shared/request/index.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { readSigningSnapshot } from './read-dkim-signing.js';

/**
 * ReadDkimSigning: validates a DKIM change and records how the domain signs before it, in the
 * execution's state, where a retried ChangeDkimSigning finds it unchanged.
 */
export const handler = lambdaHandler(async (event: { request: unknown }) => {
  const request = parseDkimChangeRequest(event.request, { keyDelivery: 'secret' });
  return readSigningSnapshot(request.EmailIdentity);
});
