import type { DkimAttributes } from '@aws-sdk/client-sesv2';
import type { DkimOrigin } from '#shared/workflow/types.js';

/**
 * SES's DKIM origin folded to ours: EXTERNAL is BYODKIM; AWS_SES and the newer per-Region
 * AWS_SES_* origins are all Easy DKIM. Undefined when SES reports no DKIM at all.
 */
export function originOf(attributes: DkimAttributes | undefined): DkimOrigin | undefined {
  const origin = attributes?.SigningAttributesOrigin;
  if (origin === undefined) return undefined;
  return origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_SES';
}

/** The BYODKIM selector SES reports: for an EXTERNAL identity, Tokens holds the selector. */
export function selectorOf(attributes: DkimAttributes | undefined): string | undefined {
  return originOf(attributes) === 'EXTERNAL' ? attributes?.Tokens?.[0] : undefined;
}
