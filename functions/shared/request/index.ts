/**
 * The identity request model: one schema for the HTTP API body, the onboarding event detail and
 * the state machine input (DESIGN.md, "Request").
 */

export {
  type DeleteIdentityRequest,
  deleteFingerprint,
  isDeleteRequest,
  parseDeleteRequest,
} from './delete-request.js';
export {
  checkDkimChangeRequest,
  type DkimChangeRequest,
  isDkimChangeRequest,
  parseDkimChangeRequest,
} from './dkim-change.js';
export {
  checkDomain,
  identityTypeOf,
  type NameCheck,
  normaliseDomain,
  normaliseEmailIdentity,
} from './identity-name.js';
export { capFieldIssues, fieldPath, MAX_LISTED_ISSUES } from './issues.js';
export { describeCharacter, quoted } from './quote.js';
export {
  MAX_DNS_NAME_LENGTH,
  plannedRecordNames,
  type RecordNamePlan,
  recordNameProblems,
} from './record-names.js';
export { type IdentityRequest, type KeyDelivery, parseIdentityRequest } from './schema.js';
