import * as z from 'zod/mini';
import { inspectPrivateKey } from '#shared/dkim/keys.js';
import { deedOriginOf, homeRegion, parentRegionOf } from '#shared/ses/replicas.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { DkimKeyLength } from '#shared/workflow/types.js';
import { checkDomain, identityTypeOf, normaliseEmailIdentity } from './identity-name.js';
import { capFieldIssues, toFieldIssues } from './issues.js';
import { quoted } from './quote.js';
import { type DkimNamePlan, recordNameProblems } from './record-names.js';
import { replicaProblems, replicasSchema } from './replicas.js';

/**
 * How a supplied BYODKIM private key reaches us: `inline` in the HTTP API body (which stores it in
 * Secrets Manager), or as a `secret` ARN in the state machine input and onboarding events, where
 * a key in the clear would land in the execution history.
 */
export type KeyDelivery = 'inline' | 'secret';

/** Parsed and normalised request (PascalCase, SES field names + our extensions). */
export type IdentityRequest = {
  EmailIdentity: string;
  Tags?: { Key: string; Value: string }[];
  DkimSigningAttributes?: {
    /** BYODKIM: the selector of the TXT record `{selector}._domainkey.{domain}`. */
    DomainSigningSelector?: string;
    /** BYODKIM, `inline` delivery only: base64 DER of the private key. */
    DomainSigningPrivateKey?: string;
    /** BYODKIM: a Secrets Manager secret whose SecretString is the base64 DER private key. */
    DomainSigningPrivateKeySecretArn?: string;
    /** BYODKIM: have the CreateIdentity step generate the key pair (2048 bits unless asked). */
    GenerateDomainSigningKey?: { KeyLength?: DkimKeyLength };
    /** Easy DKIM: the key length SES generates (the step defaults to RSA_2048_BIT). */
    NextSigningKeyLength?: DkimKeyLength;
    /** DEED: `AWS_SES_<REGION>`, this identity is a replica of the verified parent there. */
    DomainSigningAttributesOrigin?: string;
  };
  ConfigurationSetName?: string;
  Dns?: { Provider?: 'route53' | 'manual'; HostedZoneId?: string };
  /** DEED (ours): SES Regions to replicate the verified domain into, each its own identity. */
  Replicas?: string[];
  /**
   * Ours: when SES gives up on the identity (FAILED) while our probe finds its records right,
   * the stack restarts the verification itself. True when absent.
   */
  AutoRestart?: boolean;
  /** A custom MAIL FROM domain (ours; SES's PutEmailIdentityMailFromAttributes). */
  MailFrom?: { Domain: string; BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE' };
  /** A `_dmarc` record, published only where none exists (ours). */
  Dmarc?: { Policy: 'none' | 'quarantine' | 'reject'; Rua?: string };
  /** The SES tenant the identity (and its configuration set) belongs to (ours). */
  Tenant?: { Name: string };
};

const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
// The tag pattern AWS documents for SES: Unicode letters, digits, white space, _ . : / = + - @
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const SELECTOR = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const MAX_SELECTOR = 63;
const CONFIGURATION_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const HOSTED_ZONE_ID = /^[A-Z0-9]{1,32}$/;
const KEY_LENGTHS = ['RSA_1024_BIT', 'RSA_2048_BIT'] as const;

/** Type errors say what was expected and, for absent required fields, that they are required. */
export function typeError(expected: string) {
  return {
    error: (issue: { input?: unknown }) =>
      issue.input === undefined ? 'is required' : `must be ${expected}`,
  };
}

/**
 * SES counts tag lengths in UTF-16 code units (Java's String.length()), not in characters: its
 * model puts no length on TagKey (botocore sesv2 2019-09-27), so SES's own check applies, and it
 * refuses a key of 128 astral characters such as "𝐀" ("Invalid tag key"), each of which is two
 * units. JavaScript's `length` counts the same units.
 */
function sesTagLength(text: string): number {
  return text.length;
}

/** The identity, validated and normalised; any problem is reported at `EmailIdentity`'s path. */
export function emailIdentitySchema() {
  return z.pipe(
    z.string(typeError('a string')),
    z.transform((raw: string, ctx) => {
      const { value, problems } = normaliseEmailIdentity(raw);
      if (problems.length === 0) return value;
      for (const message of problems) ctx.issues.push({ code: 'custom', message, input: raw });
      return z.NEVER;
    }),
  );
}

/**
 * True for an identity that passed validation as a domain: in a refinement, an identity that
 * failed is not a string (its transform returned z.NEVER), so its records are not checked.
 */
export function isValidDomain(identity: unknown): identity is string {
  return typeof identity === 'string' && identityTypeOf(identity) === 'DOMAIN';
}

/** A string checked by a function returning its problems; zod's own messages are too generic. */
export function checkedString(problems: (value: string) => string[]) {
  return z.string(typeError('a string')).check(
    z.superRefine((value, ctx) => {
      for (const message of problems(value)) ctx.addIssue({ code: 'custom', message });
    }),
  );
}

export function keyLength() {
  return z.enum(KEY_LENGTHS, {
    error: (issue) =>
      issue.input === undefined ? 'is required' : `must be one of ${KEY_LENGTHS.join(', ')}`,
  });
}

function tagTextProblems(value: string, max: number, min: number): string[] {
  const problems: string[] = [];
  const length = sesTagLength(value);
  if (length < min || length > max) {
    problems.push(
      length === [...value].length
        ? `must be ${min} to ${max} characters long (it has ${length})`
        : `must be ${min} to ${max} characters long as SES counts them (it has ${length}: SES counts each character outside the Basic Multilingual Plane, such as an emoji or "𝐀", as two)`,
    );
  }
  if (!TAG_CHARACTERS.test(value)) {
    problems.push(
      'may contain only Unicode letters, digits, white space and the symbols _ . : / = + - @',
    );
  }
  if (value.toLowerCase().startsWith('aws:')) {
    problems.push('must not begin with "aws:", a prefix AWS reserves');
  }
  return problems;
}

const tagSchema = z.strictObject(
  {
    Key: checkedString((value) => tagTextProblems(value, MAX_TAG_KEY, 1)),
    // SES stores a missing value as the empty string; normalising here keeps requests comparable.
    Value: z.pipe(
      z.optional(checkedString((value) => tagTextProblems(value, MAX_TAG_VALUE, 0))),
      z.transform((value: string | undefined) => value ?? ''),
    ),
  },
  typeError('an object with Key and Value'),
);

const isArray = (payload: { value: unknown }) => Array.isArray(payload.value);
export const isObject = (payload: { value: unknown }) =>
  typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value);

const tagsSchema = z.array(tagSchema, typeError('an array of tags')).check(
  z.superRefine(
    (tags, ctx) => {
      if (tags.length > MAX_TAGS) {
        ctx.addIssue({
          code: 'custom',
          message: `has ${tags.length} tags; an identity has at most ${MAX_TAGS}`,
        });
      }
      // Runs even when some tags are malformed, so that every problem is reported at once.
      const firstIndexOfKey = new Map<string, number>();
      tags.forEach((tag: unknown, index) => {
        const key = (tag as { Key?: unknown } | null)?.Key;
        if (typeof key !== 'string') return;
        const first = firstIndexOfKey.get(key);
        if (first === undefined) {
          firstIndexOfKey.set(key, index);
        } else {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'Key'],
            message: `repeats the key of Tags[${first}]; tag keys must be unique`,
          });
        }
      });
    },
    { when: isArray },
  ),
);

/** True for a selector SES accepts: one DNS label of letters, digits and inner hyphens. */
export function isValidSelector(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_SELECTOR && SELECTOR.test(value);
}

export const selectorSchema = checkedString((value) => {
  const problems: string[] = [];
  if (value.length < 1 || value.length > MAX_SELECTOR) {
    problems.push(`must be 1 to ${MAX_SELECTOR} characters long (it has ${value.length})`);
  }
  if (value !== '' && !SELECTOR.test(value)) {
    problems.push(
      'may contain only letters, digits and hyphens, and must not begin or end with a hyphen',
    );
  }
  return problems;
});

export const secretArnSchema = checkedString((value) =>
  SECRET_ARN.test(value)
    ? []
    : [
        'must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)',
      ],
);

export const inlineKeySchema = checkedString((value) => {
  const inspection = inspectPrivateKey(value);
  return inspection.ok ? [] : [inspection.reason];
});

// Accepted as any value, so that the refinement below can reject it without zod quoting it.
export const forbiddenKeySchema = z.unknown();

type Supplier =
  | 'DomainSigningPrivateKey'
  | 'DomainSigningPrivateKeySecretArn'
  | 'GenerateDomainSigningKey';
const SUPPLIERS: Supplier[] = [
  'DomainSigningPrivateKey',
  'DomainSigningPrivateKeySecretArn',
  'GenerateDomainSigningKey',
];

/**
 * The DKIM signing fields, each with its own rules: the same in CreateEmailIdentity's
 * `DkimSigningAttributes` and PutEmailIdentityDkimSigningAttributes' `SigningAttributes`.
 * How they combine differs, and each request's schema says so in its refinement.
 */
export function signingAttributesObject(keyDelivery: KeyDelivery) {
  return z.strictObject(
    {
      DomainSigningSelector: z.optional(selectorSchema),
      DomainSigningPrivateKey: z.optional(
        keyDelivery === 'inline' ? inlineKeySchema : forbiddenKeySchema,
      ),
      DomainSigningPrivateKeySecretArn: z.optional(secretArnSchema),
      GenerateDomainSigningKey: z.optional(
        z.strictObject({ KeyLength: z.optional(keyLength()) }, typeError('an object')),
      ),
      NextSigningKeyLength: z.optional(keyLength()),
    },
    typeError('an object'),
  );
}

/**
 * `DomainSigningAttributesOrigin` in a creation request: SES's `AWS_SES_<REGION>` naming the
 * Region of the parent identity this one replicates (DEED). `AWS_SES` and `EXTERNAL` are left to
 * the other fields (Easy DKIM is the default; BYODKIM is a selector and a key).
 */
export const replicaOriginSchema = checkedString((value) => {
  const region = parentRegionOf(value);
  if (region === undefined) {
    return [
      `${quoted(value)} is not an SES DEED origin: it must be AWS_SES_ and a Region that offers Deterministic Easy DKIM, in upper case with underscores (like AWS_SES_EU_WEST_1)`,
    ];
  }
  const home = homeRegion();
  return region === home
    ? [
        `names this stack's own Region (${home}): the parent identity of a replica lives in another Region (${deedOriginOf(home)} is this Region)`,
      ]
    : [];
});

function dkimSigningAttributesSchema(keyDelivery: KeyDelivery) {
  return z
    .extend(signingAttributesObject(keyDelivery), {
      DomainSigningAttributesOrigin: z.optional(replicaOriginSchema),
    })
    .check(
      z.superRefine(
        (attributes, ctx) => {
          const present = (field: keyof typeof attributes) => attributes[field] !== undefined;
          if (present('DomainSigningAttributesOrigin')) {
            const others = [
              'DomainSigningSelector' as const,
              ...SUPPLIERS,
              'NextSigningKeyLength' as const,
            ].filter(present);
            if (others.length > 0) {
              ctx.addIssue({
                code: 'custom',
                path: ['DomainSigningAttributesOrigin'],
                message: `cannot be combined with ${others.join(' or ')}: a replica signs with its parent identity's Easy DKIM keys, so it takes no key or key length of its own`,
              });
            }
            return;
          }
          const suppliers = SUPPLIERS.filter(present);
          const supplierChoice =
            keyDelivery === 'inline'
              ? 'DomainSigningPrivateKey, DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey'
              : 'DomainSigningPrivateKeySecretArn or GenerateDomainSigningKey';

          if (keyDelivery === 'secret' && present('DomainSigningPrivateKey')) {
            ctx.addIssue({
              code: 'custom',
              path: ['DomainSigningPrivateKey'],
              message:
                'is not accepted here, where it would be stored in the clear: put the base64 key in a Secrets Manager secret and pass DomainSigningPrivateKeySecretArn',
            });
          }
          if (suppliers.length > 1) {
            ctx.addIssue({
              code: 'custom',
              message: `gives ${suppliers.join(' and ')}; give exactly one of ${supplierChoice}`,
            });
          }
          if (suppliers.length > 0 && !present('DomainSigningSelector')) {
            ctx.addIssue({
              code: 'custom',
              path: ['DomainSigningSelector'],
              message: `is required with ${suppliers.join(' and ')} (BYODKIM needs a selector and a key)`,
            });
          }
          if (suppliers.length === 0 && present('DomainSigningSelector')) {
            ctx.addIssue({
              code: 'custom',
              path: ['DomainSigningSelector'],
              message: `needs a key: add ${supplierChoice}`,
            });
          }
          if (
            present('NextSigningKeyLength') &&
            (suppliers.length > 0 || present('DomainSigningSelector'))
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['NextSigningKeyLength'],
              message:
                'is for Easy DKIM and cannot be combined with BYODKIM fields (DomainSigningSelector and a key)',
            });
          }
          if (Object.keys(attributes).length === 0) {
            ctx.addIssue({
              code: 'custom',
              message:
                'is empty: give NextSigningKeyLength for Easy DKIM, or DomainSigningSelector and a key for BYODKIM, or DomainSigningAttributesOrigin for a DEED replica, or leave it out',
            });
          }
        },
        { when: isObject },
      ),
    );
}

export const dnsSchema = z
  .strictObject(
    {
      Provider: z.optional(
        z.enum(['route53', 'manual'], {
          error: (issue) =>
            issue.input === undefined ? 'is required' : 'must be route53 or manual',
        }),
      ),
      HostedZoneId: z.optional(
        z.pipe(
          checkedString((value) =>
            HOSTED_ZONE_ID.test(value.replace(/^\/hostedzone\//, ''))
              ? []
              : ['must be a Route 53 hosted zone ID (like Z0123456789ABCDEFGHIJ)'],
          ),
          z.transform((value: string) => value.replace(/^\/hostedzone\//, '')),
        ),
      ),
    },
    typeError('an object'),
  )
  .check(
    z.superRefine(
      (dns, ctx) => {
        if (dns.Provider === 'manual' && dns.HostedZoneId !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['HostedZoneId'],
            message: 'names a Route 53 zone, but Provider is manual: leave one of them out',
          });
        }
      },
      { when: isObject },
    ),
  );

// SES's TenantName: up to 64 letters, digits, hyphens and underscores (CreateTenant, API reference).
const TENANT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MX_FAILURE_BEHAVIORS = ['USE_DEFAULT_VALUE', 'REJECT_MESSAGE'] as const;
const DMARC_POLICIES = ['none', 'quarantine', 'reject'] as const;
// A DMARC report URI as receivers read `rua` (RFC 7489 §6.3): mailto: and an address; several
// separated by commas. Commas and semicolons would break the record, so no address has them.
const DMARC_MAILTO = /^mailto:[^@\s,;!]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}(![0-9]+[kmgt]?)?$/i;

/** `MailFrom`: SES's custom MAIL FROM domain; how it sits under the identity is checked below. */
const mailFromSchema = z.strictObject(
  {
    Domain: z.pipe(
      z.string(typeError('a string')),
      z.transform((raw: string, ctx) => {
        const { value, problems } = checkDomain(raw);
        for (const message of problems) ctx.issues.push({ code: 'custom', message, input: raw });
        return problems.length === 0 ? value : z.NEVER;
      }),
    ),
    // SES's own default: mail goes out with amazonses.com's MAIL FROM while the MX is missing.
    BehaviorOnMxFailure: z._default(
      z.enum(MX_FAILURE_BEHAVIORS, {
        error: (issue) =>
          issue.input === undefined
            ? 'is required'
            : `must be one of ${MX_FAILURE_BEHAVIORS.join(', ')}`,
      }),
      'USE_DEFAULT_VALUE',
    ),
  },
  typeError('an object with Domain and BehaviorOnMxFailure'),
);

const dmarcSchema = z.strictObject(
  {
    Policy: z.enum(DMARC_POLICIES, {
      error: (issue) =>
        issue.input === undefined ? 'is required' : `must be one of ${DMARC_POLICIES.join(', ')}`,
    }),
    Rua: z.optional(
      checkedString((value) =>
        value.split(',').every((uri) => DMARC_MAILTO.test(uri.trim()))
          ? []
          : [
              'must be one or more mailto: URIs separated by commas (like mailto:dmarc@example.com), where aggregate reports go',
            ],
      ),
    ),
  },
  typeError('an object with Policy and, optionally, Rua'),
);

const tenantSchema = z.strictObject(
  {
    Name: checkedString((value) =>
      TENANT_NAME.test(value)
        ? []
        : ['must be 1 to 64 characters: letters, digits, _ and - (SES tenant names)'],
    ),
  },
  typeError('an object with Name'),
);

/** The rules that tie MailFrom and Dmarc to the identity they are for. */
function partProblems(request: Record<string, unknown>): { path: string[]; message: string }[] {
  const identity = request.EmailIdentity;
  const problems: { path: string[]; message: string }[] = [];
  const isAddress = typeof identity === 'string' && identityTypeOf(identity) === 'EMAIL_ADDRESS';
  if (isAddress && request.MailFrom !== undefined) {
    problems.push({
      path: ['MailFrom'],
      message:
        'applies only to a domain identity, and EmailIdentity is an email address: verify the domain and set its MAIL FROM domain there',
    });
  }
  if (isAddress && request.Dmarc !== undefined) {
    problems.push({
      path: ['Dmarc'],
      message: "applies only to a domain identity (a DMARC record is a domain's policy)",
    });
  }
  const mailFrom = (request.MailFrom as { Domain?: unknown } | undefined)?.Domain;
  if (isValidDomain(identity) && typeof mailFrom === 'string' && mailFrom !== '') {
    if (!mailFrom.endsWith(`.${identity}`)) {
      problems.push({
        path: ['MailFrom', 'Domain'],
        message: `must be a subdomain of ${identity} (like bounce.${identity}): SES accepts only a MAIL FROM domain below the identity`,
      });
    } else if (
      mailFrom
        .slice(0, -(identity.length + 1))
        .split('.')
        .some((l) => l.startsWith('_'))
    ) {
      problems.push({
        path: ['MailFrom', 'Domain'],
        message: 'must not use a label that begins with "_" (those names hold DKIM and DMARC)',
      });
    }
  }
  return problems;
}

function identityRequestSchema(keyDelivery: KeyDelivery) {
  return z
    .strictObject(
      {
        EmailIdentity: emailIdentitySchema(),
        Tags: z.optional(tagsSchema),
        DkimSigningAttributes: z.optional(dkimSigningAttributesSchema(keyDelivery)),
        ConfigurationSetName: z.optional(
          checkedString((value) =>
            CONFIGURATION_SET_NAME.test(value)
              ? []
              : ['must be 1 to 64 characters: letters, digits, _ and -'],
          ),
        ),
        Dns: z.optional(dnsSchema),
        Replicas: z.optional(replicasSchema),
        AutoRestart: z.optional(z.boolean(typeError('true or false'))),
        MailFrom: z.optional(mailFromSchema),
        Dmarc: z.optional(dmarcSchema),
        Tenant: z.optional(tenantSchema),
      },
      typeError('a JSON object'),
    )
    .check(
      z.superRefine(
        (request, ctx) => {
          // Runs on partly invalid requests too: read each field defensively.
          const identity = request.EmailIdentity;
          for (const issue of replicaProblems(request)) ctx.addIssue({ code: 'custom', ...issue });
          if (
            originOf(request.DkimSigningAttributes) !== undefined &&
            Array.isArray(request.Replicas) &&
            request.Replicas.length > 0
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['DkimSigningAttributes', 'DomainSigningAttributesOrigin'],
              message:
                'cannot be combined with Replicas: this identity is itself a replica, and DEED replicates only a parent identity',
            });
          }
          if (
            typeof identity === 'string' &&
            identityTypeOf(identity) === 'EMAIL_ADDRESS' &&
            request.DkimSigningAttributes !== undefined
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['DkimSigningAttributes'],
              message: 'applies only to a domain identity, and EmailIdentity is an email address',
            });
          }
          for (const { path, message } of partProblems(request)) {
            ctx.addIssue({ code: 'custom', path, message });
          }
          const dkim = dkimNamePlanOf(request.DkimSigningAttributes);
          if (isValidDomain(identity) && dkim !== null) {
            for (const message of recordNameProblems({ domain: identity, dkim })) {
              ctx.addIssue({ code: 'custom', path: ['EmailIdentity'], message });
            }
          }
        },
        { when: isObject },
      ),
    );
}

/**
 * How a creation request will sign, for its record names: Easy DKIM unless it names a selector.
 * Null when the DKIM fields are too broken to tell (their own problems are reported).
 */
function dkimNamePlanOf(attributes: unknown): DkimNamePlan | null {
  if (attributes === undefined) return { origin: 'AWS_SES' };
  if (typeof attributes !== 'object' || attributes === null) return null;
  const fields = attributes as Record<string, unknown>;
  // A replica publishes no DKIM records: its parent's CNAMEs sign for it.
  if (fields.DomainSigningAttributesOrigin !== undefined) return null;
  if (fields.DomainSigningSelector === undefined) {
    const byodkim = SUPPLIERS.some((supplier) => fields[supplier] !== undefined);
    return byodkim ? null : { origin: 'AWS_SES' };
  }
  return isValidSelector(fields.DomainSigningSelector)
    ? { origin: 'EXTERNAL', selector: fields.DomainSigningSelector }
    : null;
}

/** The request's `DomainSigningAttributesOrigin`, read defensively (the request may be invalid). */
function originOf(attributes: unknown): unknown {
  return typeof attributes === 'object' && attributes !== null
    ? (attributes as Record<string, unknown>).DomainSigningAttributesOrigin
    : undefined;
}

/**
 * Each delivery's schema, built when first asked for: a function parses requests of one
 * delivery only (the API inline, the workflow and onboarding events by secret), so the other's
 * schema was built at every cold start for nothing.
 */
const SCHEMAS: Partial<Record<KeyDelivery, ReturnType<typeof identityRequestSchema>>> = {};

/**
 * Validates and normalises an identity request (API body, onboarding event detail or state machine
 * input) against every SES rule and our extensions, before any AWS call, the names of the DNS
 * records it will produce included. Throws ValidationError whose `details` lists every problem
 * as {field, message} (the first 25, then how many more); messages never quote a private key,
 * nor more than a short, cut prefix of any input.
 */
export function parseIdentityRequest(
  input: unknown,
  options: { keyDelivery: KeyDelivery },
): IdentityRequest {
  const delivery = options.keyDelivery;
  SCHEMAS[delivery] ??= identityRequestSchema(delivery);
  const result = SCHEMAS[delivery].safeParse(input);
  if (!result.success) {
    throw new ValidationError(capFieldIssues(toFieldIssues(result.error.issues)));
  }
  // Sound: with `secret` delivery a DomainSigningPrivateKey (typed unknown) never parses.
  return result.data as IdentityRequest;
}
