import type { DkimAttributes, GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import { originOf, selectorOf } from '#shared/dkim/ses-dkim.js';
import type { IdentityRequest } from '#shared/request/index.js';
import type { DkimPlan } from './dkim-plan.js';

/** How an existing identity compares with a request: what blocks adoption, and what does not. */
export interface Comparison {
  /** Each makes adoption wrong: a ConflictError names them all. */
  differences: string[];
  /** Worth telling, not worth failing for: adoption keeps SES's values. */
  notes: string[];
}

function describeExisting(attributes: DkimAttributes | undefined): string {
  const origin = originOf(attributes);
  if (origin === 'EXTERNAL') return `BYODKIM with selector "${selectorOf(attributes) ?? '?'}"`;
  if (origin === 'AWS_SES') return 'Easy DKIM';
  return 'no DKIM';
}

/**
 * Compares an identity SES already has with the request: the kind of DKIM and the BYODKIM
 * selector must match (they decide the DNS records); the Easy DKIM key length, the configuration
 * set and the tags may differ, and are noted.
 */
export function compareWithRequest(
  existing: GetEmailIdentityCommandOutput,
  plan: DkimPlan,
  request: IdentityRequest,
): Comparison {
  const differences: string[] = [];
  const notes: string[] = [];
  const attributes = existing.DkimAttributes;
  const origin = originOf(attributes);

  if (plan.mode === 'EASY') {
    if (origin !== 'AWS_SES') {
      differences.push(
        `DKIM: the identity uses ${describeExisting(attributes)}, the request asks for Easy DKIM`,
      );
    } else if ((attributes?.Tokens ?? []).length === 0) {
      differences.push(
        'DKIM: the identity has no Easy DKIM tokens (DKIM was never set up for it), the request asks for Easy DKIM',
      );
    } else if (
      attributes?.NextSigningKeyLength !== undefined &&
      attributes.NextSigningKeyLength !== plan.nextSigningKeyLength
    ) {
      notes.push(
        `Easy DKIM next key length: the identity has ${attributes.NextSigningKeyLength}, the request asks for ${plan.nextSigningKeyLength}; kept as it is`,
      );
    }
  } else if (plan.mode === 'BYODKIM_SECRET' || plan.mode === 'BYODKIM_GENERATED') {
    if (origin !== 'EXTERNAL') {
      differences.push(
        `DKIM: the identity uses ${describeExisting(attributes)}, the request asks for BYODKIM with selector "${plan.selector}"`,
      );
    } else if (selectorOf(attributes) !== plan.selector) {
      differences.push(
        `DKIM selector: the identity has "${selectorOf(attributes) ?? ''}", the request asks for "${plan.selector}"`,
      );
    }
  }

  const wantedSet = request.ConfigurationSetName;
  if (wantedSet !== undefined && wantedSet !== existing.ConfigurationSetName) {
    notes.push(
      `configuration set: the identity has ${existing.ConfigurationSetName ? `"${existing.ConfigurationSetName}"` : 'none'}, the request asks for "${wantedSet}"; kept as it is`,
    );
  }
  const existingTags = new Map((existing.Tags ?? []).map((tag) => [tag.Key, tag.Value ?? '']));
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
