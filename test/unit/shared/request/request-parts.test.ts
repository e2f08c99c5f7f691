import { describe, expect, it } from 'vitest';
import { parseIdentityRequest } from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';

/** The field issues a request gets, or [] when it parses. */
function issuesOf(request: unknown): { field: string; message: string }[] {
  try {
    parseIdentityRequest(request, { keyDelivery: 'secret' });
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.details;
  }
}

describe('MailFrom, Dmarc and Tenant in the request', () => {
  it('accepts every part for a domain, with SES default behaviour on MX failure written out', () => {
    expect(
      parseIdentityRequest(
        {
          EmailIdentity: 'Example.com',
          MailFrom: { Domain: 'Bounce.Example.com.' },
          Dmarc: {
            Policy: 'reject',
            Rua: 'mailto:dmarc@example.com,mailto:agg@reports.example.net',
          },
          Tenant: { Name: 'acme_1-eu' },
        },
        { keyDelivery: 'secret' },
      ),
    ).toMatchObject({
      EmailIdentity: 'example.com',
      MailFrom: { Domain: 'bounce.example.com', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
      Dmarc: { Policy: 'reject' },
      Tenant: { Name: 'acme_1-eu' },
    });
  });

  it.each([
    [
      'a MAIL FROM domain outside the identity',
      { EmailIdentity: 'example.com', MailFrom: { Domain: 'bounce.example.org' } },
      'MailFrom.Domain',
      'must be a subdomain of example.com',
    ],
    [
      'the identity itself as MAIL FROM domain',
      { EmailIdentity: 'example.com', MailFrom: { Domain: 'example.com' } },
      'MailFrom.Domain',
      'must be a subdomain of example.com',
    ],
    [
      'a look-alike suffix',
      { EmailIdentity: 'example.com', MailFrom: { Domain: 'bounce.badexample.com' } },
      'MailFrom.Domain',
      'must be a subdomain',
    ],
    [
      'a MAIL FROM domain for an address',
      { EmailIdentity: 'ops@example.com', MailFrom: { Domain: 'bounce.example.com' } },
      'MailFrom',
      'applies only to a domain identity',
    ],
    [
      'an unknown MX failure behaviour',
      {
        EmailIdentity: 'example.com',
        MailFrom: { Domain: 'b.example.com', BehaviorOnMxFailure: 'DROP' },
      },
      'MailFrom.BehaviorOnMxFailure',
      'must be one of USE_DEFAULT_VALUE, REJECT_MESSAGE',
    ],
    [
      'a MAIL FROM domain without Domain',
      { EmailIdentity: 'example.com', MailFrom: {} },
      'MailFrom.Domain',
      'is required',
    ],
    [
      'an unknown DMARC policy',
      { EmailIdentity: 'example.com', Dmarc: { Policy: 'block' } },
      'Dmarc.Policy',
      'must be one of none, quarantine, reject',
    ],
    [
      'a report address that is not a mailto: URI',
      { EmailIdentity: 'example.com', Dmarc: { Policy: 'none', Rua: 'dmarc@example.com' } },
      'Dmarc.Rua',
      'mailto: URIs',
    ],
    [
      'a report address that would break the record',
      {
        EmailIdentity: 'example.com',
        Dmarc: { Policy: 'none', Rua: 'mailto:a@example.com; p=none' },
      },
      'Dmarc.Rua',
      'mailto: URIs',
    ],
    [
      'DMARC for an address',
      { EmailIdentity: 'ops@example.com', Dmarc: { Policy: 'none' } },
      'Dmarc',
      'applies only to a domain identity',
    ],
    [
      'a tenant name SES refuses',
      { EmailIdentity: 'example.com', Tenant: { Name: 'acme corp' } },
      'Tenant.Name',
      'must be 1 to 64 characters',
    ],
    [
      'an unknown field in a part',
      { EmailIdentity: 'example.com', Tenant: { Name: 'acme', Id: 'x' } },
      'Tenant.Id',
      '',
    ],
  ])('refuses %s, naming the field and the rule', (_case, request, field, message) => {
    const issues = issuesOf(request);
    expect(issues).toContainEqual({ field, message: expect.stringContaining(message) });
  });

  it('accepts a tenant for an address identity', () => {
    expect(issuesOf({ EmailIdentity: 'ops@example.com', Tenant: { Name: 'acme' } })).toEqual([]);
  });
});
