import { parseIdentityRequest } from '#shared/request/index.js';
import { lambdaHandler } from '#shared/runtime/observability.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { createIdentity } from './create-identity.js';

/**
 * CreateIdentity: the state machine input is the raw request. It is validated with the shared
 * schema (a key may only arrive as a secret's ARN here: the input is kept in the execution
 * history), then the identity is created or adopted.
 */
export async function createIdentityStep(event: unknown): Promise<CreatedIdentity> {
  const request = parseIdentityRequest(event, { keyDelivery: 'secret' });
  return createIdentity(request);
}

export const handler = lambdaHandler(createIdentityStep);
