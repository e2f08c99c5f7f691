import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  NotFoundException,
  PutEmailIdentityDkimSigningAttributesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signingSnapshotOf } from '#shared/dkim/signing.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { sesIdentityOf } from '#shared/ses/identity-view.js';
import { ConflictError, SesNotFoundError } from '#shared/workflow/errors.js';
import { changeDkimSigning } from '#steps/change-dkim-signing/change-dkim-signing.js';
import { prepareDkimChange } from '#steps/prepare-dkim-change/prepare-dkim-change.js';
import { readSigningSnapshot } from '#steps/read-dkim-signing/read-dkim-signing.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/example.com-abc123';
const OLD_TOKENS = ['oldtokena', 'oldtokenb', 'oldtokenc'];
const NEW_TOKENS = ['newtokena', 'newtokenb', 'newtokenc'];

const easyDkim: GetEmailIdentityCommandOutput = {
  $metadata: {},
  IdentityType: 'DOMAIN',
  VerifiedForSendingStatus: true,
  DkimAttributes: {
    SigningEnabled: true,
    Status: 'SUCCESS',
    Tokens: OLD_TOKENS,
    SigningAttributesOrigin: 'AWS_SES',
    CurrentSigningKeyLength: 'RSA_2048_BIT',
    NextSigningKeyLength: 'RSA_2048_BIT',
    LastKeyGenerationTimestamp: new Date('2026-11-01T00:00:00.000Z'),
  },
};
const byodkim = (selector: string): GetEmailIdentityCommandOutput => ({
  $metadata: {},
  IdentityType: 'DOMAIN',
  VerifiedForSendingStatus: true,
  DkimAttributes: {
    SigningEnabled: true,
    Status: 'SUCCESS',
    Tokens: [selector],
    SigningAttributesOrigin: 'EXTERNAL',
  },
});
const noDkim: GetEmailIdentityCommandOutput = {
  $metadata: {},
  IdentityType: 'DOMAIN',
  VerifiedForSendingStatus: true,
  DkimAttributes: { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [] },
};

const change = (fields: Partial<DkimChangeRequest>): DkimChangeRequest => ({
  Operation: 'ChangeDkimSigning',
  EmailIdentity: 'example.com',
  SigningAttributesOrigin: 'AWS_SES',
  ...fields,
});

describe('changeDkimSigning', () => {
  const ses = mockClient(SESv2Client);
  const secrets = mockClient(SecretsManagerClient);
  // What ReadDkimSigning saw before the change: the step's second input.
  let before: GetEmailIdentityCommandOutput;
  const given = (existing: GetEmailIdentityCommandOutput) => {
    before = existing;
  };
  // PrepareDkimChange, then ChangeDkimSigning, as the workflow runs them (publishing between).
  const apply = async (request: DkimChangeRequest) => {
    const current = signingSnapshotOf(sesIdentityOf(request.EmailIdentity, before));
    const prepared = await prepareDkimChange(request, current, 'run-1', new Date(), {
      keySecretPrefix: 'stack/dkim-private-keys/',
      registryItem: async () => undefined,
    });
    return changeDkimSigning(request, current, prepared);
  };
  const stored = new Map<string, string>();

  beforeEach(() => {
    ses.reset();
    secrets.reset();
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    ses.on(PutEmailIdentityDkimSigningAttributesCommand).callsFake((input) => ({
      DkimStatus: 'PENDING',
      DkimTokens:
        input.SigningAttributesOrigin === 'AWS_SES'
          ? NEW_TOKENS
          : [input.SigningAttributes?.DomainSigningSelector],
    }));
    stored.clear();
    secrets.on(CreateSecretCommand).callsFake((input) => {
      const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.Name}`;
      stored.set(arn, input.SecretString);
      return { ARN: arn };
    });
    secrets.on(GetSecretValueCommand).callsFake((input) => ({
      SecretString: stored.get(input.SecretId) ?? testKeys.rsa2048Pkcs1,
    }));
    secrets.on(DeleteSecretCommand).resolves({});
  });
  afterEach(() => vi.useRealTimers());

  it('enables Easy DKIM on a domain without DKIM, with nothing stale', async () => {
    given(noDkim);

    const result = await apply(change({ SigningAttributesOrigin: 'AWS_SES' }));

    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityDkimSigningAttributesCommand, {
      EmailIdentity: 'example.com',
      SigningAttributesOrigin: 'AWS_SES',
    });
    expect(result.change).toMatchObject({
      kind: 'ENABLE_EASY_DKIM',
      from: { origin: null },
      to: { origin: 'AWS_SES' },
      stale_records: [],
    });
    expect(result.dkim).toMatchObject({ origin: 'AWS_SES', tokens: NEW_TOKENS, status: 'PENDING' });
    expect(result.created_at).toBe(NOW.toISOString());
  });

  it('enables BYODKIM with a generated key, giving SES the private key and us the public one', async () => {
    given(noDkim);

    const result = await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 's1',
          GenerateDomainSigningKey: { KeyLength: 'RSA_1024_BIT' },
        },
      }),
    );

    const sent = ses.commandCalls(PutEmailIdentityDkimSigningAttributesCommand)[0]?.args[0].input;
    expect(sent?.SigningAttributes?.DomainSigningSelector).toBe('s1');
    expect(sent?.SigningAttributes?.DomainSigningPrivateKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(result.change).toMatchObject({
      kind: 'ENABLE_BYODKIM',
      to: { origin: 'EXTERNAL', selector: 's1', signing_key_length: 'RSA_1024_BIT' },
    });
    expect(result.dkim?.public_key).toMatch(/^MI/);
    expect(JSON.stringify(result)).not.toContain(sent?.SigningAttributes?.DomainSigningPrivateKey);
  });

  it('switches Easy DKIM to BYODKIM with a supplied key, keeping the old CNAMEs until the new TXT verifies', async () => {
    given(easyDkim);

    const result = await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 'tenant1',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      }),
    );

    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityDkimSigningAttributesCommand, {
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: {
        DomainSigningSelector: 'tenant1',
        DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
      },
    });
    expect(result.change?.kind).toBe('EASY_DKIM_TO_BYODKIM');
    expect(result.change?.stale_records).toEqual(
      OLD_TOKENS.map((token) => ({ type: 'CNAME', name: `${token}._domainkey.example.com` })),
    );
    expect(result.dkim).toMatchObject({
      selector: 'tenant1',
      public_key: testKeys.rsa2048PublicKey,
    });
  });

  it('switches BYODKIM back to Easy DKIM: new tokens, the old selector TXT stale', async () => {
    given(byodkim('tenant1'));

    const result = await apply(change({ SigningAttributesOrigin: 'AWS_SES' }));

    expect(result.change).toMatchObject({
      kind: 'BYODKIM_TO_EASY_DKIM',
      from: { origin: 'EXTERNAL', selector: 'tenant1' },
      to: { origin: 'AWS_SES', tokens: NEW_TOKENS },
      stale_records: [{ type: 'TXT', name: 'tenant1._domainkey.example.com' }],
    });
    expect(result.dkim?.tokens).toEqual(NEW_TOKENS);
  });

  it('rotates a BYODKIM key under a new selector when the request names none', async () => {
    given(byodkim('tenant1'));

    const result = await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {} },
      }),
    );

    expect(result.change).toMatchObject({
      kind: 'BYODKIM_KEY_ROTATION',
      to: { selector: 'ses-20261123', signing_key_length: 'RSA_2048_BIT' },
      stale_records: [{ type: 'TXT', name: 'tenant1._domainkey.example.com' }],
    });
  });

  it('picks another new selector when today’s is the one in use', async () => {
    given(byodkim('ses-20261123'));
    const result = await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {} },
      }),
    );
    expect(result.change?.to.selector).toBe('ses-20261123-2');
  });

  it('rotates the key under the same selector when the request names it, with nothing stale', async () => {
    given(byodkim('tenant1'));

    const result = await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: 'tenant1', GenerateDomainSigningKey: {} },
      }),
    );

    expect(result.change).toMatchObject({ kind: 'BYODKIM_KEY_ROTATION', stale_records: [] });
  });

  it('changes the Easy DKIM key length, keeping the tokens and the records', async () => {
    given(easyDkim);
    ses
      .on(PutEmailIdentityDkimSigningAttributesCommand)
      .resolves({ DkimStatus: 'SUCCESS', DkimTokens: OLD_TOKENS });

    const result = await apply(
      change({
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      }),
    );

    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityDkimSigningAttributesCommand, {
      SigningAttributesOrigin: 'AWS_SES',
      SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
    });
    expect(result.change).toMatchObject({
      kind: 'EASY_DKIM_KEY_LENGTH',
      to: { signing_key_length: 'RSA_1024_BIT' },
      stale_records: [],
    });
    expect(result.dkim?.next_signing_key_length).toBe('RSA_1024_BIT');
  });

  it('refuses a second key length change within 24 hours and says when it is allowed again', async () => {
    const lastKey = new Date(NOW.getTime() - 3 * 3600_000);
    given({
      ...easyDkim,
      DkimAttributes: { ...easyDkim.DkimAttributes, LastKeyGenerationTimestamp: lastKey },
    });

    const attempt = apply(
      change({
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toThrow('allowed from 2026-11-24T07:00:00.000Z');
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
  });

  it('changes nothing when Easy DKIM is asked for and already in place with that key length', async () => {
    given(easyDkim);

    const result = await apply(
      change({
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      }),
    );

    expect(result.change?.kind).toBe('NO_CHANGE');
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
    expect(result.dkim?.tokens).toEqual(OLD_TOKENS);
  });

  it('reads a domain SES does not know as SesNotFoundError, before any change', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'not found', $metadata: {} }));
    await expect(readSigningSnapshot('example.com')).rejects.toBeInstanceOf(SesNotFoundError);
  });

  it('reads the signing a change starts from', async () => {
    ses.on(GetEmailIdentityCommand).resolves(byodkim('tenant1'));
    await expect(readSigningSnapshot('example.com')).resolves.toMatchObject({
      identity_type: 'DOMAIN',
      signing: { origin: 'EXTERNAL', selector: 'tenant1', tokens: [] },
      dkim_status: 'SUCCESS',
    });
  });

  it('knows what it changes from on a retry, after SES already applied the change', async () => {
    given(easyDkim);
    const request = change({
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: { DomainSigningSelector: 'tenant1', GenerateDomainSigningKey: {} },
    });
    const first = await apply(request);
    // SES now signs with BYODKIM; the retry still gets the snapshot taken before the change.
    const retried = await apply(request);
    expect(retried.change).toEqual({ ...first.change, to: retried.change?.to });
    expect(retried.change?.kind).toBe('EASY_DKIM_TO_BYODKIM');
    expect(retried.change?.stale_records).toHaveLength(3);
  });

  it('reads the supplied key and leaves its secret for the DiscardKeySecret step', async () => {
    given(easyDkim);
    await apply(
      change({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 's2',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      }),
    );
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
  });
});
