import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseIdentityRequest } from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';

const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:ses-identity-verifier/dkim/example.com-AbCdEf';

/** The problems of a request, as the API and the failure event list them. */
function problemsOf(request: unknown): { field: string; message: string }[] {
  try {
    parseIdentityRequest(request, { keyDelivery: 'secret' });
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.details;
    throw error;
  }
}

const FIELD = 'DkimSigningAttributes.DomainSigningAttributesOrigin';
const origin = (attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  EmailIdentity: 'example.com',
  DkimSigningAttributes: attributes,
  ...extra,
});

describe('DkimSigningAttributes.DomainSigningAttributesOrigin in a creation request', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('accepts the AWS_SES_<REGION> origin of another Region and keeps it as given', () => {
    const request = parseIdentityRequest(
      origin({ DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' }),
      { keyDelivery: 'secret' },
    );

    expect(request.DkimSigningAttributes).toEqual({
      DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1',
    });
  });

  it('accepts it with MAIL FROM, DMARC and a tenant, whose records a replica still needs', () => {
    expect(
      problemsOf(
        origin(
          { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
          {
            MailFrom: { Domain: 'bounce.example.com' },
            Dmarc: { Policy: 'none' },
            Tenant: { Name: 'acme' },
          },
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    ['a Region SES does not offer DEED in', 'AWS_SES_EU_WEST_9', 'not an SES DEED origin'],
    ['a Region in lower case', 'aws_ses_eu_west_1', 'not an SES DEED origin'],
    ['Easy DKIM in this Region', 'AWS_SES', 'not an SES DEED origin'],
    ['BYODKIM', 'EXTERNAL', 'not an SES DEED origin'],
    ["the stack's own Region", 'AWS_SES_US_EAST_1', "this stack's own Region (us-east-1)"],
  ])('refuses %s, naming the field and the rule', (_case, value, rule) => {
    expect(problemsOf(origin({ DomainSigningAttributesOrigin: value }))).toEqual([
      { field: FIELD, message: expect.stringContaining(rule) },
    ]);
  });

  it('refuses a value that is not a string', () => {
    expect(problemsOf(origin({ DomainSigningAttributesOrigin: 7 }))).toEqual([
      { field: FIELD, message: 'must be a string' },
    ]);
  });

  it.each([
    ['NextSigningKeyLength', { NextSigningKeyLength: 'RSA_1024_BIT' }],
    ['DomainSigningSelector', { DomainSigningSelector: 's1' }],
    [
      'DomainSigningSelector or DomainSigningPrivateKeySecretArn',
      { DomainSigningSelector: 's1', DomainSigningPrivateKeySecretArn: SECRET_ARN },
    ],
    [
      'DomainSigningSelector or GenerateDomainSigningKey',
      { DomainSigningSelector: 's1', GenerateDomainSigningKey: {} },
    ],
  ])('refuses it beside %s: a replica signs with its parent keys', (named, fields) => {
    expect(
      problemsOf(origin({ DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1', ...fields })),
    ).toContainEqual({
      field: FIELD,
      message: expect.stringContaining(`cannot be combined with ${named}`),
    });
  });

  it('refuses it beside an inline private key, without quoting the key', () => {
    let details: { field: string; message: string }[] = [];
    try {
      parseIdentityRequest(
        origin({
          DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1',
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: 'c2VjcmV0LWtleS1tYXRlcmlhbA==',
        }),
        { keyDelivery: 'inline' },
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      details = error.details;
    }

    expect(details).toContainEqual({
      field: FIELD,
      message: expect.stringContaining('DomainSigningPrivateKey'),
    });
    expect(JSON.stringify(details)).not.toContain('c2VjcmV0LWtleS1tYXRlcmlhbA');
  });

  it('refuses it with Replicas: a replica is not a parent', () => {
    expect(
      problemsOf(
        origin({ DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' }, { Replicas: ['eu-west-2'] }),
      ),
    ).toEqual([
      { field: FIELD, message: expect.stringContaining('cannot be combined with Replicas') },
    ]);
  });

  it('refuses it for an email address: DEED replicates a domain', () => {
    expect(
      problemsOf({
        EmailIdentity: 'ops@example.com',
        DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
      }),
    ).toEqual([
      {
        field: 'DkimSigningAttributes',
        message: expect.stringContaining('applies only to a domain identity'),
      },
    ]);
  });
});
