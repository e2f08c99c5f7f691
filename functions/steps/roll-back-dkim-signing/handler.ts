import { lambdaHandler } from '#shared/runtime/observability.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { rollBackDkimSigning } from './roll-back-dkim-signing.js';

/** RollBackDkimSigning: a failed change away from Easy DKIM goes back to it. */
export const handler = lambdaHandler(async (event: { identity: CreatedIdentity }) =>
  rollBackDkimSigning(event.identity),
);
