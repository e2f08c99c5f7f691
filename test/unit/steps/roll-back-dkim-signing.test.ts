import { PutEmailIdentityDkimSigningAttributesCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { rollBackDkimSigning } from '#steps/roll-back-dkim-signing/roll-back-dkim-signing.js';

const OLD_TOKENS = ['oldtokena', 'oldtokenb', 'oldtokenc'];

/** A switch from Easy DKIM to BYODKIM that SES failed. */
const failedSwitch = (fromOrigin: 'AWS_SES' | 'EXTERNAL' = 'AWS_SES'): CreatedIdentity => ({
  identity: 'example.com',
  identity_type: 'DOMAIN',
  created_at: '2026-11-23T10:00:00.000Z',
  adopted: false,
  configuration_set_name: null,
  dkim: {
    origin: 'EXTERNAL',
    tokens: [],
    selector: 'tenant1',
    status: 'FAILED',
    current_signing_key_length: 'RSA_2048_BIT',
    next_signing_key_length: 'RSA_2048_BIT',
    public_key: 'MIIB',
  },
  dns: { provider: null, hosted_zone_id: null },
  change: {
    kind: 'EASY_DKIM_TO_BYODKIM',
    from: {
      origin: fromOrigin,
      selector: null,
      tokens: OLD_TOKENS,
      signing_key_length: 'RSA_2048_BIT',
    },
    to: { origin: 'EXTERNAL', selector: 'tenant1', tokens: [], signing_key_length: 'RSA_2048_BIT' },
    stale_records: [],
    stale_removal: {
      provider: null,
      hosted_zone_id: null,
      hosted_zone_name: null,
      records: [],
      by_hand: [],
    },
    switched_at: '2026-11-23T10:05:00.000Z',
  },
});

describe('rollBackDkimSigning', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => ses.reset());

  it('switches SES back to Easy DKIM and says when SES named the old tokens again', async () => {
    ses
      .on(PutEmailIdentityDkimSigningAttributesCommand)
      .resolves({ DkimStatus: 'PENDING', DkimTokens: OLD_TOKENS });

    const result = await rollBackDkimSigning(failedSwitch());

    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityDkimSigningAttributesCommand, {
      EmailIdentity: 'example.com',
      SigningAttributesOrigin: 'AWS_SES',
    });
    expect(result.rollback).toMatchObject({
      origin: 'AWS_SES',
      same_tokens: true,
      tokens: OLD_TOKENS,
    });
    expect(result.identity.dkim).toMatchObject({
      origin: 'AWS_SES',
      tokens: OLD_TOKENS,
      selector: null,
    });
    expect(result.sending).toContain('their CNAMEs never left DNS');
  });

  it('refuses to go back to anything but the Easy DKIM the change left', async () => {
    await expect(rollBackDkimSigning(failedSwitch('EXTERNAL'))).rejects.toThrow(
      'goes back only to the Easy DKIM a change left',
    );
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
  });
});
