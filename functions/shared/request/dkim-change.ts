import { z } from 'zod';
import { ValidationError } from '#shared/workflow/errors.js';
import type { DkimKeyLength } from '#shared/workflow/types.js';
import { identityTypeOf, normaliseEmailIdentity } from './identity-name.js';
import {
  dnsSchema,
  isObject,
  type KeyDelivery,
  signingAttributesObject,
  toFieldIssues,
  typeError,
} from './schema.js';

/**
 * A change of DKIM signing on an existing domain identity: SES's
 * PutEmailIdentityDkimSigningAttributes request (`SigningAttributesOrigin`, `SigningAttributes`)
 * with our extensions, as for creation (a key in a secret or generated, `Dns`). `Operation` tells
 * the state machine this run changes DKIM instead of creating an identity.
 */
export type DkimChangeRequest = {
  Operation: 'ChangeDkimSigning';
  EmailIdentity: string;
  SigningAttributesOrigin: 'AWS_SES' | 'EXTERNAL';
  SigningAttributes?: {
    /** BYODKIM: the new selector; a new one is chosen when absent. */
    DomainSigningSelector?: string;
    DomainSigningPrivateKey?: string;
    DomainSigningPrivateKeySecretArn?: string;
    GenerateDomainSigningKey?: { KeyLength?: DkimKeyLength };
    /** Easy DKIM: the key length SES generates next (SES allows one change a day). */
    NextSigningKeyLength?: DkimKeyLength;
  };
  Dns?: { Provider?: 'route53' | 'manual'; HostedZoneId?: string };
};

const ORIGINS = ['AWS_SES', 'EXTERNAL'] as const;
const KEY_FIELDS = [
  'DomainSigningPrivateKey',
  'DomainSigningPrivateKeySecretArn',
  'GenerateDomainSigningKey',
] as const;

function dkimChangeSchema(keyDelivery: KeyDelivery) {
  const signingAttributes = signingAttributesObject(keyDelivery);
  return z
    .strictObject(
      {
        // Optional: SigningAttributesOrigin alone marks a change (an onboarding event's detail).
        Operation: z
          .literal('ChangeDkimSigning', { error: () => 'must be ChangeDkimSigning' })
          .optional()
          .transform(() => 'ChangeDkimSigning' as const),
        EmailIdentity: z.string(typeError('a string')).transform((raw, ctx) => {
          const { value, problems } = normaliseEmailIdentity(raw);
          for (const message of problems) ctx.issues.push({ code: 'custom', message, input: raw });
          return value;
        }),
        SigningAttributesOrigin: z.enum(ORIGINS, {
          error: (issue) =>
            issue.input === undefined ? 'is required' : 'must be AWS_SES or EXTERNAL',
        }),
        SigningAttributes: signingAttributes.optional(),
        Dns: dnsSchema.optional(),
      },
      typeError('a JSON object'),
    )
    .superRefine(
      (request, ctx) => {
        const issue = (path: PropertyKey[], message: string) =>
          ctx.addIssue({ code: 'custom', path, message });
        if (typeof request.EmailIdentity === 'string' && request.EmailIdentity !== '') {
          if (identityTypeOf(request.EmailIdentity) !== 'DOMAIN') {
            issue(
              ['EmailIdentity'],
              'must be a domain: DKIM signing applies to domain identities only',
            );
          }
        }
        const attributes = (request.SigningAttributes ?? {}) as Record<string, unknown>;
        const keys = KEY_FIELDS.filter((field) => attributes[field] !== undefined);
        if (keyDelivery === 'secret' && attributes.DomainSigningPrivateKey !== undefined) {
          issue(
            ['SigningAttributes', 'DomainSigningPrivateKey'],
            'is not accepted here, where it would be stored in the clear: put the base64 key in a Secrets Manager secret and pass DomainSigningPrivateKeySecretArn',
          );
        }
        if (request.SigningAttributesOrigin === 'AWS_SES') {
          for (const field of ['DomainSigningSelector', ...KEY_FIELDS]) {
            if (attributes[field] !== undefined) {
              issue(
                ['SigningAttributes', field],
                'is for BYODKIM (EXTERNAL); Easy DKIM (AWS_SES) takes only NextSigningKeyLength',
              );
            }
          }
        }
        if (request.SigningAttributesOrigin === 'EXTERNAL') {
          if (attributes.NextSigningKeyLength !== undefined) {
            issue(
              ['SigningAttributes', 'NextSigningKeyLength'],
              'is for Easy DKIM (AWS_SES); with EXTERNAL the key you give sets the length',
            );
          }
          const choice =
            keyDelivery === 'inline'
              ? 'DomainSigningPrivateKey, DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey'
              : 'DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey';
          if (keys.length === 0) {
            issue(['SigningAttributes'], `needs a key for BYODKIM: give one of ${choice}`);
          } else if (keys.length > 1) {
            issue(
              ['SigningAttributes'],
              `gives ${keys.join(' and ')}; give exactly one of ${choice}`,
            );
          }
        }
      },
      { when: isObject },
    );
}

const SCHEMAS = {
  inline: dkimChangeSchema('inline'),
  secret: dkimChangeSchema('secret'),
};

/**
 * Validates a DKIM signing change before any AWS call. Throws ValidationError listing every
 * problem with its field path; messages never quote a private key.
 */
export function parseDkimChangeRequest(
  input: unknown,
  options: { keyDelivery: KeyDelivery },
): DkimChangeRequest {
  const result = SCHEMAS[options.keyDelivery].safeParse(input);
  if (!result.success) throw new ValidationError(toFieldIssues(result.error.issues));
  return result.data as DkimChangeRequest;
}

/**
 * True when a workflow input asks for a DKIM change rather than a new identity: it says so, or
 * it carries SigningAttributesOrigin, as the state machine's ChooseOperation decides.
 */
export function isDkimChangeRequest(input: unknown): boolean {
  const fields = input as { Operation?: unknown; SigningAttributesOrigin?: unknown } | null;
  return fields?.Operation === 'ChangeDkimSigning' || fields?.SigningAttributesOrigin !== undefined;
}
