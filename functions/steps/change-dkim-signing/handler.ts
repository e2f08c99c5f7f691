import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { parseDkimChangeRequest } from '#shared/request/index.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import type { PreparedDkimChange } from '#steps/prepare-dkim-change/prepare-dkim-change.js';
import { changeDkimSigning } from './change-dkim-signing.js';

/** ChangeDkimSigning: switches SES to the prepared signing, from the signing ReadDkimSigning saw. */
export const handler = lambdaHandler(
  async (event: { request: unknown; current: SigningSnapshot; prepared: PreparedDkimChange }) =>
    changeDkimSigning(
      parseDkimChangeRequest(event.request, { keyDelivery: 'secret' }),
      event.current,
      event.prepared,
    ),
);
