import type { IdentityRequest } from '#shared/request/index.js';
import type { SesDkim, SesIdentity } from '#shared/ses/identity-view.js';
import type { DkimPlan } from './dkim-plan.js';

/** How an existing identity compares with a request: what blocks adoption, and what does not. */
export interface Comparison {
  /** Each makes adoption wrong: a ConflictError names them all. */
  differences: string[];
  /** Worth telling, not worth failing for: adoption keeps SES's values. */
  notes: string[];
}

function describeExisting(dkim: SesDkim | null): string {
  if (dkim?.origin === 'EXTERNAL') return `BYODKIM with selector "${dkim.selector ?? '?'}"`;
  if (dkim?.origin === 'AWS_SES') return 'Easy DKIM';
  return 'no DKIM';
}

/**
 * Compares an identity SES already has with the request: the kind of DKIM and the BYODKIM
 * selector must match (they decide the DNS records); the Easy DKIM key length, the configuration
 * set and the tags may differ, and are noted.
 */
export function compareWithRequest(
  existing: SesIdentity,
  plan: DkimPlan,
  request: IdentityRequest,
): Comparison {
  const differences: string[] = [];
  const notes: string[] = [];
  const dkim = existing.dkim;
  const origin = dkim?.origin ?? null;

  if (plan.mode === 'EASY') {
    if (origin !== 'AWS_SES') {
      differences.push(
        `DKIM: the identity uses ${describeExisting(dkim)}, the request asks for Easy DKIM`,
      );
    } else if ((dkim?.tokens ?? []).length === 0) {
      differences.push(
        'DKIM: the identity has no Easy DKIM tokens (DKIM was never set up for it), the request asks for Easy DKIM',
      );
    } else if (
      dkim?.next_signing_key_length != null &&
      dkim.next_signing_key_length !== plan.nextSigningKeyLength
    ) {
      notes.push(
        `Easy DKIM next key length: the identity has ${dkim.next_signing_key_length}, the request asks for ${plan.nextSigningKeyLength}; kept as it is`,
      );
    }
  } else if (plan.mode === 'BYODKIM_SECRET' || plan.mode === 'BYODKIM_GENERATED') {
    if (origin !== 'EXTERNAL') {
      differences.push(
        `DKIM: the identity uses ${describeExisting(dkim)}, the request asks for BYODKIM with selector "${plan.selector}"`,
      );
    } else if (dkim?.selector !== plan.selector) {
      differences.push(
        `DKIM selector: the identity has "${dkim?.selector ?? ''}", the request asks for "${plan.selector}"`,
      );
    }
  }

  const wantedSet = request.ConfigurationSetName;
  const existingSet = existing.configuration_set_name;
  if (wantedSet !== undefined && wantedSet !== existingSet) {
    notes.push(
      `configuration set: the identity has ${existingSet ? `"${existingSet}"` : 'none'}, the request asks for "${wantedSet}"; kept as it is`,
    );
  }
  const existingTags = new Map(existing.tags.map((tag) => [tag.key, tag.value]));
  const differingTags = (request.Tags ?? [])
    .filter((tag) => existingTags.get(tag.Key) !== tag.Value)
    .map((tag) => tag.Key);
  if (differingTags.length > 0) {
    notes.push(
      `tags: the identity lacks or has other values for ${differingTags.map((key) => `"${key}"`).join(', ')}; kept as they are`,
    );
  }
  return { differences, notes };
}
