import type { IdentityRequest } from '#shared/request/index.js';
import { identityTypeOf } from '#shared/request/index.js';
import { parentRegionOf } from '#shared/ses/replicas.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { DkimKeyLength } from '#shared/workflow/types.js';

/** Easy DKIM keys are 2048 bits unless the request asks otherwise (SES's own default is 1024). */
export const DEFAULT_KEY_LENGTH: DkimKeyLength = 'RSA_2048_BIT';

/** What the request asks of DKIM, decided once from the validated request. */
export type DkimPlan =
  | { mode: 'NONE' }
  | { mode: 'EASY'; nextSigningKeyLength: DkimKeyLength }
  | { mode: 'BYODKIM_SECRET'; selector: string; secretArn: string }
  | { mode: 'BYODKIM_GENERATED'; selector: string; keyLength: DkimKeyLength }
  | { mode: 'REPLICA'; origin: string; parentRegion: string };

/** The DKIM plan of a validated request: none for an address, else a DEED replica, Easy DKIM or BYODKIM. */
export function dkimPlanOf(request: IdentityRequest): DkimPlan {
  if (identityTypeOf(request.EmailIdentity) === 'EMAIL_ADDRESS') return { mode: 'NONE' };
  const attributes = request.DkimSigningAttributes;
  if (attributes?.DomainSigningPrivateKey !== undefined) {
    // parseIdentityRequest with `secret` delivery already refuses it; this guards other callers.
    throw new ValidationError([
      {
        field: 'DkimSigningAttributes.DomainSigningPrivateKey',
        message: 'is not accepted by the workflow: pass DomainSigningPrivateKeySecretArn',
      },
    ]);
  }
  const parentRegion = parentRegionOf(attributes?.DomainSigningAttributesOrigin);
  if (attributes?.DomainSigningAttributesOrigin !== undefined && parentRegion !== undefined) {
    return { mode: 'REPLICA', origin: attributes.DomainSigningAttributesOrigin, parentRegion };
  }
  const selector = attributes?.DomainSigningSelector;
  if (selector !== undefined && attributes?.DomainSigningPrivateKeySecretArn !== undefined) {
    return {
      mode: 'BYODKIM_SECRET',
      selector,
      secretArn: attributes.DomainSigningPrivateKeySecretArn,
    };
  }
  if (selector !== undefined && attributes?.GenerateDomainSigningKey !== undefined) {
    return {
      mode: 'BYODKIM_GENERATED',
      selector,
      keyLength: attributes.GenerateDomainSigningKey.KeyLength ?? DEFAULT_KEY_LENGTH,
    };
  }
  return {
    mode: 'EASY',
    nextSigningKeyLength: attributes?.NextSigningKeyLength ?? DEFAULT_KEY_LENGTH,
  };
}
