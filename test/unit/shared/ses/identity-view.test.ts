import type { DkimAttributes } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { sesDkimOf, sesIdentityOf } from '#shared/ses/identity-view.js';

const TOKENS = ['aaaa', 'bbbb', 'cccc'];

describe('sesDkimOf', () => {
  it.each<
    [string, DkimAttributes, { origin: string | null; tokens: string[]; selector: string | null }]
  >([
    [
      'Easy DKIM',
      { SigningAttributesOrigin: 'AWS_SES', Tokens: TOKENS },
      { origin: 'AWS_SES', tokens: TOKENS, selector: null },
    ],
    [
      'an Easy DKIM key replicated from another Region',
      { SigningAttributesOrigin: 'AWS_SES_EU_WEST_1', Tokens: TOKENS },
      { origin: 'AWS_SES', tokens: TOKENS, selector: null },
    ],
    [
      'BYODKIM',
      { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'] },
      { origin: 'EXTERNAL', tokens: [], selector: 's1' },
    ],
    [
      'tokens without an origin (an answer from before BYODKIM)',
      { Tokens: TOKENS },
      { origin: 'AWS_SES', tokens: TOKENS, selector: null },
    ],
    [
      'neither origin nor tokens: DKIM never set up',
      { Status: 'NOT_STARTED' },
      { origin: null, tokens: [], selector: null },
    ],
  ])('reads %s', (_label, attributes, expected) => {
    expect(sesDkimOf(attributes)).toMatchObject(expected);
  });

  it('keeps SES own origin, the key lengths and the last key generation as ISO 8601', () => {
    expect(
      sesDkimOf({
        SigningAttributesOrigin: 'AWS_SES_US_EAST_1',
        SigningEnabled: true,
        Status: 'SUCCESS',
        Tokens: TOKENS,
        CurrentSigningKeyLength: 'RSA_1024_BIT',
        NextSigningKeyLength: 'RSA_2048_BIT',
        LastKeyGenerationTimestamp: new Date('2026-01-15T01:00:00Z'),
        SigningHostedZone: 'dkim.amazonses.com',
      }),
    ).toEqual({
      origin: 'AWS_SES',
      signing_attributes_origin: 'AWS_SES_US_EAST_1',
      signing_enabled: true,
      status: 'SUCCESS',
      tokens: TOKENS,
      selector: null,
      current_signing_key_length: 'RSA_1024_BIT',
      next_signing_key_length: 'RSA_2048_BIT',
      last_key_generated_at: '2026-01-15T01:00:00.000Z',
      signing_hosted_zone: 'dkim.amazonses.com',
    });
  });

  it('is null when SES returns no DKIM attributes', () => {
    expect(sesDkimOf(undefined)).toBeNull();
  });
});

describe('sesIdentityOf', () => {
  it('names the sending policies and the custom MAIL FROM domain an identity has', () => {
    expect(
      sesIdentityOf('example.com', {
        IdentityType: 'DOMAIN',
        Policies: { 'tenant-send': '{}', audit: '{}' },
        MailFromAttributes: {
          MailFromDomain: 'bounce.example.com',
          MailFromDomainStatus: 'PENDING',
          BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
        },
      }),
    ).toMatchObject({
      policy_names: ['tenant-send', 'audit'],
      mail_from_domain: 'bounce.example.com',
    });
  });

  it('maps GetEmailIdentity to our vocabulary, filling what SES left out with empty values', () => {
    expect(
      sesIdentityOf('jane@example.com', {
        IdentityType: 'EMAIL_ADDRESS',
        VerificationStatus: 'PENDING',
        Tags: [{ Key: 'tenant', Value: undefined }],
        VerificationInfo: {
          ErrorType: 'HOST_NOT_FOUND',
          LastCheckedTimestamp: new Date('2026-01-15T09:45:00Z'),
          SOARecord: {
            PrimaryNameServer: 'ns1.example.com',
            AdminEmail: 'hostmaster.example.com',
            SerialNumber: 7,
          },
        },
      }),
    ).toEqual({
      identity: 'jane@example.com',
      identity_type: 'EMAIL_ADDRESS',
      verification_status: 'PENDING',
      verified_for_sending: false,
      configuration_set_name: null,
      tags: [{ key: 'tenant', value: '' }],
      dkim: null,
      policy_names: [],
      mail_from_domain: null,
      mail_from: null,
      verification_info: {
        error_type: 'HOST_NOT_FOUND',
        last_checked_at: '2026-01-15T09:45:00.000Z',
        last_success_at: null,
        soa_record: {
          primary_name_server: 'ns1.example.com',
          admin_email: 'hostmaster.example.com',
          serial_number: 7,
        },
      },
    });
  });
});
