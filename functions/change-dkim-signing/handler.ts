import type { SigningSnapshot } from '../lib/dkim-signing.js';
import { lambdaHandler } from '../lib/observability.js';
import { parseDkimChangeRequest } from '../lib/request/index.js';
import { changeDkimSigning } from './change-dkim-signing.js';

/** ChangeDkimSigning: applies the change to SES, from the signing ReadDkimSigning saw. */
export const handler = lambdaHandler(
  async (event: { request: unknown; current: SigningSnapshot }) =>
    changeDkimSigning(
      parseDkimChangeRequest(event.request, { keyDelivery: 'secret' }),
      event.current,
    ),
);
