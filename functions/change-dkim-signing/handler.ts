import { lambdaHandler } from '../lib/observability.js';
import { parseDkimChangeRequest } from '../lib/request/index.js';
import { changeDkimSigning } from './change-dkim-signing.js';

/** ChangeDkimSigning: the workflow's first step for a DKIM change (keys arrive as secret ARNs). */
export const handler = lambdaHandler(async (event: unknown) =>
  changeDkimSigning(parseDkimChangeRequest(event, { keyDelivery: 'secret' })),
);
