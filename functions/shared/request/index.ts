/**
 * The identity request model: one schema for the HTTP API body, the onboarding event detail and
 * the state machine input (DESIGN.md, "Request").
 */

export {
  type DkimChangeRequest,
  isDkimChangeRequest,
  parseDkimChangeRequest,
} from './dkim-change.js';
export { identityTypeOf, normaliseDomain, normaliseEmailIdentity } from './identity-name.js';
export { type IdentityRequest, type KeyDelivery, parseIdentityRequest } from './schema.js';
