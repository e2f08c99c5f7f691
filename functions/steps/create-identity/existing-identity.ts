import type { IdentityRequest } from '#shared/request/index.js';
import type { SesDkim, SesIdentity } from '#shared/ses/identity-view.js';
import type { DkimPlan } from './dkim-plan.js';

/** What the selector's TXT record holds, as our own DNS look-up found it. */
export type PublishedKey = 'THIS_KEY' | 'ANOTHER_KEY' | 'NONE';

function describeExisting(dkim: SesDkim | null): string {
  if (dkim?.origin === 'EXTERNAL') return `BYODKIM with selector "${dkim.selector ?? '?'}"`;
  if (dkim?.origin === 'AWS_SES') return 'Easy DKIM';
  return 'no DKIM';
}

/** True when SES signs for the identity with DKIM that it verified. */
export function isVerified(existing: SesIdentity): boolean {
  return (
    existing.verified_for_sending && (existing.dkim === null || existing.dkim.status === 'SUCCESS')
  );
}

/**
 * What makes adopting an identity SES already has wrong: each difference, in words. Adoption
 * never lies: the kind of DKIM, the BYODKIM selector, the Easy DKIM key length and, for a
 * supplied key, the key itself (as far as DNS shows it: SES never reveals the key it holds) must
 * be the request's. Tags and the configuration set may differ: adoption applies the request's.
 * `publishedKey` is what DNS holds at the selector (for BYODKIM requests).
 */
export function differencesFrom(
  existing: SesIdentity,
  plan: DkimPlan,
  publishedKey: PublishedKey,
): string[] {
  const dkim = existing.dkim;
  const origin = dkim?.origin ?? null;
  if (plan.mode === 'REPLICA') {
    const existingOrigin = dkim?.signing_attributes_origin ?? null;
    return existingOrigin === plan.origin
      ? []
      : [
          `DKIM: the identity uses ${existingOrigin?.startsWith('AWS_SES_') ? `DEED with origin ${existingOrigin}` : describeExisting(dkim)}, the request asks for a DEED replica of the parent in ${plan.parentRegion} (${plan.origin})`,
        ];
  }
  if (plan.mode === 'EASY') {
    if (origin !== 'AWS_SES') {
      return [`DKIM: the identity uses ${describeExisting(dkim)}, the request asks for Easy DKIM`];
    }
    if ((dkim?.tokens ?? []).length === 0) {
      return [
        'DKIM: the identity has no Easy DKIM tokens (DKIM was never set up for it), the request asks for Easy DKIM',
      ];
    }
    const length = dkim?.next_signing_key_length ?? dkim?.current_signing_key_length ?? null;
    if (length !== null && length !== plan.nextSigningKeyLength) {
      return [
        `Easy DKIM key length: the identity has ${length}, the request asks for ${plan.nextSigningKeyLength}`,
      ];
    }
    return [];
  }
  if (plan.mode === 'NONE') return [];
  if (origin !== 'EXTERNAL') {
    return [
      `DKIM: the identity uses ${describeExisting(dkim)}, the request asks for BYODKIM with selector "${plan.selector}"`,
    ];
  }
  if (dkim?.selector !== plan.selector) {
    return [
      `DKIM selector: the identity has "${dkim?.selector ?? ''}", the request asks for "${plan.selector}"`,
    ];
  }
  if (plan.mode === 'BYODKIM_SECRET' && publishedKey === 'ANOTHER_KEY') {
    return [
      `DKIM key: the TXT record of selector "${plan.selector}" holds another public key than the request's, so SES may be signing with that key`,
    ];
  }
  if (plan.mode === 'BYODKIM_GENERATED' && isVerified(existing)) {
    return [
      `DKIM key: the identity is verified with a key of selector "${plan.selector}" that SES does not reveal, and a generated key would replace it`,
    ];
  }
  return [];
}

/** The request's tags or configuration set that the identity does not have yet. */
export function settingsToApply(existing: SesIdentity, request: IdentityRequest): string[] {
  const changes: string[] = [];
  if (
    request.ConfigurationSetName !== undefined &&
    request.ConfigurationSetName !== existing.configuration_set_name
  ) {
    changes.push(`configuration set "${request.ConfigurationSetName}"`);
  }
  const have = new Map(existing.tags.map((tag) => [tag.key, tag.value]));
  const wanted = request.Tags ?? [];
  if (
    request.Tags !== undefined &&
    (wanted.length !== have.size || wanted.some((tag) => have.get(tag.Key) !== tag.Value))
  ) {
    changes.push('tags');
  }
  return changes;
}
