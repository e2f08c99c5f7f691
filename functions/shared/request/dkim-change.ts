import * as z from 'zod/mini';
import { type FieldIssue, ValidationError } from '#shared/workflow/errors.js';
import type { DkimKeyLength } from '#shared/workflow/types.js';
import { identityTypeOf } from './identity-name.js';
import { capFieldIssues, toFieldIssues } from './issues.js';
import { type DkimNamePlan, recordNameProblems } from './record-names.js';
import {
  dnsSchema,
  emailIdentitySchema,
  isObject,
  isValidDomain,
  isValidSelector,
  type KeyDelivery,
  signingAttributesObject,
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
        Operation: z.pipe(
          z.optional(z.literal('ChangeDkimSigning', { error: () => 'must be ChangeDkimSigning' })),
          z.transform(() => 'ChangeDkimSigning' as const),
        ),
        EmailIdentity: emailIdentitySchema(),
        SigningAttributesOrigin: z.enum(ORIGINS, {
          error: (issue) =>
            issue.input === undefined ? 'is required' : 'must be AWS_SES or EXTERNAL',
        }),
        SigningAttributes: z.optional(signingAttributes),
        Dns: z.optional(dnsSchema),
      },
      typeError('a JSON object'),
    )
    .check(
      z.superRefine(
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
          const dkim = dkimNamePlanOf(request.SigningAttributesOrigin, attributes);
          if (isValidDomain(request.EmailIdentity) && dkim !== null) {
            for (const message of recordNameProblems({ domain: request.EmailIdentity, dkim })) {
              issue(['EmailIdentity'], message);
            }
          }
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
      ),
    );
}

/**
 * How a change will sign, for its record names: Easy DKIM's tokens, or BYODKIM's selector (one
 * the workflow picks when none is named). Null when the fields are too broken to tell.
 */
function dkimNamePlanOf(origin: unknown, attributes: Record<string, unknown>): DkimNamePlan | null {
  if (origin === 'AWS_SES') return { origin: 'AWS_SES' };
  if (origin !== 'EXTERNAL') return null;
  const selector = attributes.DomainSigningSelector;
  if (selector === undefined) return { origin: 'EXTERNAL', selector: null };
  return isValidSelector(selector) ? { origin: 'EXTERNAL', selector } : null;
}

/** Each delivery's schema, built when first asked for, as parseIdentityRequest's are. */
const SCHEMAS: Partial<Record<KeyDelivery, ReturnType<typeof dkimChangeSchema>>> = {};

/**
 * Validates a DKIM signing change before any AWS call, without throwing: the change, or every
 * problem with its field path (not yet capped, so that a caller can add its own first).
 */
export function checkDkimChangeRequest(
  input: unknown,
  options: { keyDelivery: KeyDelivery },
): { ok: true; request: DkimChangeRequest } | { ok: false; issues: FieldIssue[] } {
  const delivery = options.keyDelivery;
  SCHEMAS[delivery] ??= dkimChangeSchema(delivery);
  const result = SCHEMAS[delivery].safeParse(input);
  return result.success
    ? { ok: true, request: result.data as DkimChangeRequest }
    : { ok: false, issues: toFieldIssues(result.error.issues) };
}

/**
 * Validates a DKIM signing change before any AWS call, the names of its DNS records included.
 * Throws ValidationError listing every problem with its field path (the first 25, then how many
 * more); messages never quote a private key, nor more than a short, cut prefix of any input.
 */
export function parseDkimChangeRequest(
  input: unknown,
  options: { keyDelivery: KeyDelivery },
): DkimChangeRequest {
  const result = checkDkimChangeRequest(input, options);
  if (!result.ok) throw new ValidationError(capFieldIssues(result.issues));
  return result.request;
}

/**
 * True when a workflow input asks for a DKIM change rather than a new identity: it says so, or
 * it carries SigningAttributesOrigin, as the state machine's ChooseOperation decides.
 */
export function isDkimChangeRequest(input: unknown): boolean {
  const fields = input as { Operation?: unknown; SigningAttributesOrigin?: unknown } | null;
  return fields?.Operation === 'ChangeDkimSigning' || fields?.SigningAttributesOrigin !== undefined;
}
