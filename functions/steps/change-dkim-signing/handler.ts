import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { parseDkimChangeRequest } from '#shared/request/index.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import { changeDkimSigning } from './change-dkim-signing.js';

/** ChangeDkimSigning: applies the change to SES, from the signing ReadDkimSigning saw. */
export const handler = lambdaHandler(
  async (event: { request: unknown; current: SigningSnapshot }) =>
    changeDkimSigning(
      parseDkimChangeRequest(event.request, { keyDelivery: 'secret' }),
      event.current,
    ),
);
