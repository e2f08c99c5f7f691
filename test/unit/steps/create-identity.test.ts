import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AlreadyExistsException,
  BadRequestException,
  ConcurrentModificationException,
  CreateEmailIdentityCommand,
  type CreateEmailIdentityCommandInput,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  InternalServiceErrorException,
  LimitExceededException,
  NotFoundException,
  PutEmailIdentityConfigurationSetAttributesCommand,
  PutEmailIdentityDkimSigningAttributesCommand,
  SESv2Client,
  TagResourceCommand,
  TooManyRequestsException,
  UntagResourceCommand,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dkimTxtValue, splitTxt } from '#shared/dns/records.js';
import { useClock } from '#shared/runtime/clock.js';
import { type ErrorName, ValidationError } from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { createIdentityStep } from '#steps/create-identity/handler.js';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:ses-identity-verifier/dkim/example.com-AbCdEf';
const TOKENS = [
  'tokenaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'tokenbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  'tokencccc',
];
const meta = { $metadata: { httpStatusCode: 400 } };

const easyRequest = { EmailIdentity: 'example.com' };
const secretRequest = {
  EmailIdentity: 'example.com',
  DkimSigningAttributes: {
    DomainSigningSelector: 's1',
    DomainSigningPrivateKeySecretArn: SECRET_ARN,
  },
};
const generatedRequest = (KeyLength?: 'RSA_1024_BIT' | 'RSA_2048_BIT') => ({
  EmailIdentity: 'example.com',
  DkimSigningAttributes: {
    DomainSigningSelector: 's1',
    GenerateDomainSigningKey: KeyLength ? { KeyLength } : {},
  },
});

const easyExisting = (extra: Partial<GetEmailIdentityCommandOutput> = {}) => ({
  IdentityType: 'DOMAIN' as const,
  DkimAttributes: {
    SigningAttributesOrigin: 'AWS_SES' as const,
    Tokens: TOKENS,
    Status: 'PENDING' as const,
    NextSigningKeyLength: 'RSA_2048_BIT' as const,
    CurrentSigningKeyLength: 'RSA_2048_BIT' as const,
  },
  ...extra,
});
const byodkimExisting = (selector: string) => ({
  IdentityType: 'DOMAIN' as const,
  DkimAttributes: {
    SigningAttributesOrigin: 'EXTERNAL' as const,
    Tokens: [selector],
    Status: 'PENDING' as const,
  },
});

/** The private key SES received in the step's CreateEmailIdentity call. */
function keySentToSes(ses: ReturnType<typeof mockClient>): string {
  const input = ses.commandCalls(CreateEmailIdentityCommand)[0]?.args[0]
    .input as CreateEmailIdentityCommandInput;
  const key = input.DkimSigningAttributes?.DomainSigningPrivateKey;
  if (key === undefined) throw new Error('no private key was sent to SES');
  return key;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the step to fail, and it succeeded');
}

describe('CreateIdentity step', () => {
  const ses = mockClient(SESv2Client);
  const secrets = mockClient(SecretsManagerClient);

  beforeEach(() => {
    ses.reset();
    secrets.reset();
    useClock({ now: () => NOW });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: testKeys.rsa2048Pkcs1 });
    secrets.on(DeleteSecretCommand).resolves({});
  });
  afterEach(() => useClock());

  describe('Easy DKIM', () => {
    it('creates the identity with RSA_2048_BIT when no key length is asked for', async () => {
      ses.on(CreateEmailIdentityCommand).resolves({
        IdentityType: 'DOMAIN',
        DkimAttributes: {
          SigningAttributesOrigin: 'AWS_SES',
          Tokens: TOKENS,
          Status: 'PENDING',
          NextSigningKeyLength: 'RSA_2048_BIT',
        },
      });

      const result = await createIdentityStep(easyRequest);

      expect(ses).toHaveReceivedCommandExactlyOnceWith(CreateEmailIdentityCommand, {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      });
      expect(result).toEqual<CreatedIdentity>({
        identity: 'example.com',
        identity_type: 'DOMAIN',
        created_at: NOW.toISOString(),
        adopted: false,
        configuration_set_name: null,
        dkim: {
          origin: 'AWS_SES',
          tokens: TOKENS,
          selector: null,
          status: 'PENDING',
          current_signing_key_length: null,
          next_signing_key_length: 'RSA_2048_BIT',
          public_key: null,
          signing_hosted_zone: 'dkim.amazonses.com',
        },
        dns: { provider: null, hosted_zone_id: null },
        change: null,
        restart: null,
        parts: { mail_from: null, dmarc: null, tenant: null },
      });
      expect(secrets).not.toHaveReceivedAnyCommand();
    });

    it('creates the identity with the key length the request asks for', async () => {
      ses.on(CreateEmailIdentityCommand).resolves({ DkimAttributes: { Tokens: TOKENS } });

      await createIdentityStep({
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      });

      expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
      });
    });

    it('passes tags and the configuration set to SES and returns the normalised identity and DNS preference', async () => {
      ses.on(CreateEmailIdentityCommand).resolves({ DkimAttributes: { Tokens: TOKENS } });

      const result = await createIdentityStep({
        EmailIdentity: 'Example.COM.',
        Tags: [{ Key: 'tenant', Value: 'acme' }, { Key: 'empty' }],
        ConfigurationSetName: 'tenant-acme',
        Dns: { Provider: 'route53', HostedZoneId: '/hostedzone/Z0123456789ABC' },
      });

      expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
        EmailIdentity: 'example.com',
        Tags: [
          { Key: 'tenant', Value: 'acme' },
          { Key: 'empty', Value: '' },
        ],
        ConfigurationSetName: 'tenant-acme',
      });
      expect(result).toMatchObject({
        identity: 'example.com',
        configuration_set_name: 'tenant-acme',
        dns: { provider: 'route53', hosted_zone_id: 'Z0123456789ABC' },
        change: null,
        restart: null,
      });
    });
  });

  describe('an email address', () => {
    it('creates the identity without DKIM attributes and returns no DKIM summary', async () => {
      ses.on(CreateEmailIdentityCommand).resolves({ IdentityType: 'EMAIL_ADDRESS' });

      const result = await createIdentityStep({ EmailIdentity: 'jane@example.com' });

      const input = ses.commandCalls(CreateEmailIdentityCommand)[0]?.args[0].input;
      expect(input).toEqual({ EmailIdentity: 'jane@example.com' });
      expect(result).toMatchObject({
        identity: 'jane@example.com',
        identity_type: 'EMAIL_ADDRESS',
        adopted: false,
        dkim: null,
      });
    });
  });

  describe('BYODKIM with a key in Secrets Manager', () => {
    beforeEach(() => {
      ses.on(CreateEmailIdentityCommand).resolves({
        IdentityType: 'DOMAIN',
        DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'PENDING' },
      });
    });

    it('reads the key and gives it to SES, leaving the secret for DiscardKeySecret to delete', async () => {
      const result = await createIdentityStep(secretRequest);

      expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
      expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
        },
      });
      // The secret stays until DiscardKeySecret, so a retry of this step can still read it.
      expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
      expect(result.dkim).toEqual({
        origin: 'EXTERNAL',
        tokens: [],
        selector: 's1',
        status: 'PENDING',
        current_signing_key_length: 'RSA_2048_BIT',
        next_signing_key_length: null,
        public_key: testKeys.rsa2048PublicKey,
      });
    });

    it('accepts a PKCS#8 key with the trailing newline an editor leaves', async () => {
      secrets.on(GetSecretValueCommand).resolves({ SecretString: `${testKeys.rsa1024Pkcs8}\n` });

      const result = await createIdentityStep(secretRequest);

      expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: testKeys.rsa1024Pkcs8,
        },
      });
      expect(result.dkim).toMatchObject({
        current_signing_key_length: 'RSA_1024_BIT',
        public_key: testKeys.rsa1024PublicKey,
      });
    });

    it('keeps the secret when SES refuses the identity', async () => {
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new BadRequestException({ message: 'Invalid key', ...meta }));

      const error = await rejection(createIdentityStep(secretRequest));

      expect(error.name).toBe('SesBadRequestError');
      expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
    });

    it.each([
      [
        'a key SES does not accept',
        testKeys.rsa512Pkcs1,
        /names a secret whose value is a 512-bit RSA key/,
      ],
      ['a PEM key', testKeys.rsa2048Pem, /names a secret whose value is PEM/],
    ])(
      'fails with ValidationError, before calling SES, when the secret holds %s',
      async (_label, value, message) => {
        secrets.on(GetSecretValueCommand).resolves({ SecretString: value });

        const error = await rejection(createIdentityStep(secretRequest));

        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details).toEqual([
          {
            field: 'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
            message: expect.stringMatching(message),
          },
        ]);
        expect(ses).not.toHaveReceivedAnyCommand();
        expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
      },
    );

    it('fails with ValidationError when the secret holds binary data instead of text', async () => {
      secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

      const error = await rejection(createIdentityStep(secretRequest));

      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toMatch(/no SecretString/);
    });

    it('fails with a retryable ThrottlingError when Secrets Manager throttles the read', async () => {
      secrets
        .on(GetSecretValueCommand)
        .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

      const error = await rejection(createIdentityStep(secretRequest));

      expect(error.name).toBe('ThrottlingError');
      expect(ses).not.toHaveReceivedAnyCommand();
    });

    it.each([
      ['does not exist', new ResourceNotFoundException({ message: 'not found', ...meta })],
      [
        'is scheduled for deletion',
        new InvalidRequestException({
          message:
            "You can't perform this operation on the secret because it was marked for deletion.",
          ...meta,
        }),
      ],
    ])(
      'fails with ValidationError naming the secret when it %s, before calling SES',
      async (_label, secretError) => {
        secrets.on(GetSecretValueCommand).rejects(secretError);

        const error = await rejection(createIdentityStep(secretRequest));

        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details).toEqual([
          {
            field: 'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
            message: expect.stringContaining('does not exist or is scheduled for deletion'),
          },
        ]);
        expect(ses).not.toHaveReceivedAnyCommand();
      },
    );

    it('fails with ValidationError, not our role in an access-denied message, for a secret outside the prefix', async () => {
      const denied = Object.assign(
        new Error(
          'User: arn:aws:sts::123456789012:assumed-role/stack-CreateIdentityRole/x is not authorized',
        ),
        { name: 'AccessDeniedException' },
      );
      secrets.on(GetSecretValueCommand).rejects(denied);

      const error = await rejection(createIdentityStep(secretRequest));

      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain('dkim-private-keys/');
      expect(error.message).not.toContain('assumed-role');
    });
  });

  describe('BYODKIM with a generated key', () => {
    beforeEach(() => {
      ses.on(CreateEmailIdentityCommand).resolves({
        DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'PENDING' },
      });
    });

    it.each([
      [undefined, 2048, 'RSA_2048_BIT'],
      ['RSA_1024_BIT' as const, 1024, 'RSA_1024_BIT'],
      ['RSA_2048_BIT' as const, 2048, 'RSA_2048_BIT'],
    ])(
      'generates a key pair (asked for %s: %i bits), gives SES the private half and returns the public half',
      async (asked, bits, keyLength) => {
        const result = await createIdentityStep(generatedRequest(asked));

        const sent = keySentToSes(ses);
        const privateKey = createPrivateKey({
          key: Buffer.from(sent, 'base64'),
          format: 'der',
          type: 'pkcs1',
        });
        expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
        expect(result.dkim).toEqual({
          origin: 'EXTERNAL',
          tokens: [],
          selector: 's1',
          status: 'PENDING',
          current_signing_key_length: keyLength,
          next_signing_key_length: null,
          public_key: createPublicKey(privateKey)
            .export({ type: 'spki', format: 'der' })
            .toString('base64'),
        });
        expect(secrets).not.toHaveReceivedAnyCommand();
      },
    );
  });

  describe('when SES already has the identity', () => {
    let dns: TestDnsServer;
    /** What the test DNS server holds: the test of each case puts the selector's record in it. */
    const zone: Record<string, ZoneData> = {};

    beforeAll(async () => {
      dns = await startDnsServer(zone);
      vi.stubEnv('DNS_RESOLVERS', dns.address);
      vi.stubEnv('DNS_QUERY_AUTHORITATIVE', 'false');
      vi.stubEnv('AWS_ACCOUNT_ID', '123456789012');
    });
    afterAll(async () => {
      vi.unstubAllEnvs();
      await dns.close();
    });
    beforeEach(() => {
      delete zone['s1._domainkey.example.com'];
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new AlreadyExistsException({ message: 'exists', ...meta }));
      ses.on(TagResourceCommand).resolves({});
      ses.on(UntagResourceCommand).resolves({});
      ses.on(PutEmailIdentityConfigurationSetAttributesCommand).resolves({});
      ses.on(DeleteEmailIdentityCommand).resolves({});
    });
    const publishKey = (publicKey: string) => {
      zone['s1._domainkey.example.com'] = { TXT: [splitTxt(dkimTxtValue(publicKey))] };
    };

    it('adopts a matching Easy DKIM identity with what SES reports', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves(easyExisting({ ConfigurationSetName: 'existing-set' }));

      const result = await createIdentityStep(easyRequest);

      expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
        EmailIdentity: 'example.com',
      });
      expect(result).toEqual<CreatedIdentity>({
        identity: 'example.com',
        identity_type: 'DOMAIN',
        created_at: NOW.toISOString(),
        adopted: true,
        configuration_set_name: 'existing-set',
        dkim: {
          origin: 'AWS_SES',
          tokens: TOKENS,
          selector: null,
          status: 'PENDING',
          current_signing_key_length: 'RSA_2048_BIT',
          next_signing_key_length: 'RSA_2048_BIT',
          public_key: null,
          signing_hosted_zone: 'dkim.amazonses.com',
        },
        dns: { provider: null, hosted_zone_id: null },
        change: null,
        restart: null,
        parts: { mail_from: null, dmarc: null, tenant: null },
      });
      expect(ses).not.toHaveReceivedCommand(TagResourceCommand);
      expect(ses).not.toHaveReceivedCommand(DeleteEmailIdentityCommand);
    });

    it('adopts an Easy DKIM identity whose origin names a Region (AWS_SES_*)', async () => {
      const existing = easyExisting();
      ses.on(GetEmailIdentityCommand).resolves({
        ...existing,
        DkimAttributes: {
          ...existing.DkimAttributes,
          SigningAttributesOrigin: 'AWS_SES_US_EAST_1',
        },
      });

      const result = await createIdentityStep(easyRequest);

      expect(result).toMatchObject({ adopted: true, dkim: { origin: 'AWS_SES', tokens: TOKENS } });
    });

    it("applies the request's tags and configuration set to the adopted identity, never dropping them", async () => {
      ses.on(GetEmailIdentityCommand).resolves(
        easyExisting({
          ConfigurationSetName: 'existing-set',
          Tags: [
            { Key: 'tenant', Value: 'other' },
            { Key: 'stale', Value: 'x' },
          ],
        }),
      );

      const result = await createIdentityStep({
        EmailIdentity: 'example.com',
        Tags: [{ Key: 'tenant', Value: 'acme' }],
        ConfigurationSetName: 'wanted-set',
      });

      const arn = 'arn:aws:ses:us-east-1:123456789012:identity/example.com';
      expect(ses).toHaveReceivedCommandWith(TagResourceCommand, {
        ResourceArn: arn,
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      });
      expect(ses).toHaveReceivedCommandWith(UntagResourceCommand, {
        ResourceArn: arn,
        TagKeys: ['stale'],
      });
      expect(ses).toHaveReceivedCommandWith(PutEmailIdentityConfigurationSetAttributesCommand, {
        EmailIdentity: 'example.com',
        ConfigurationSetName: 'wanted-set',
      });
      expect(result).toMatchObject({ adopted: true, configuration_set_name: 'wanted-set' });
    });

    it('adopts a matching BYODKIM identity whose DNS record holds the same key, with the public key from the secret', async () => {
      ses.on(GetEmailIdentityCommand).resolves(byodkimExisting('s1'));
      publishKey(testKeys.rsa2048PublicKey);

      const result = await createIdentityStep(secretRequest);

      expect(result).toMatchObject({
        adopted: true,
        restart: null,
        dkim: {
          origin: 'EXTERNAL',
          selector: 's1',
          tokens: [],
          public_key: testKeys.rsa2048PublicKey,
        },
      });
      expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
      expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
    });

    it("gives SES the request's key again when no DNS record shows which key it holds", async () => {
      ses.on(GetEmailIdentityCommand).resolves(byodkimExisting('s1'));
      ses.on(PutEmailIdentityDkimSigningAttributesCommand).resolves({ DkimStatus: 'PENDING' });

      const result = await createIdentityStep(secretRequest);

      expect(ses).toHaveReceivedCommandWith(PutEmailIdentityDkimSigningAttributesCommand, {
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
        },
      });
      expect(result).toMatchObject({ adopted: true, restart: { method: 'KEY_RESENT' } });
    });

    it('restarts a BYODKIM verification SES gave up on by giving it its key again', async () => {
      const existing = byodkimExisting('s1');
      ses.on(GetEmailIdentityCommand).resolves({
        ...existing,
        DkimAttributes: { ...existing.DkimAttributes, Status: 'FAILED' },
      });
      ses.on(PutEmailIdentityDkimSigningAttributesCommand).resolves({ DkimStatus: 'PENDING' });
      publishKey(testKeys.rsa2048PublicKey);

      const result = await createIdentityStep(secretRequest);

      expect(result).toMatchObject({
        restart: { method: 'KEY_RESENT', reason: expect.stringContaining('FAILED') },
        dkim: { status: 'PENDING', public_key: testKeys.rsa2048PublicKey },
      });
    });

    it("restarts an Easy DKIM verification SES gave up on by recreating the identity, with the request's tags", async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves(
          easyExisting({ DkimAttributes: { ...easyExisting().DkimAttributes, Status: 'FAILED' } }),
        );
      ses
        .on(CreateEmailIdentityCommand)
        .rejectsOnce(new AlreadyExistsException({ message: 'exists', ...meta }))
        .resolves({
          IdentityType: 'DOMAIN',
          DkimAttributes: {
            SigningAttributesOrigin: 'AWS_SES',
            Tokens: ['newtoken'],
            Status: 'PENDING',
          },
        });

      const result = await createIdentityStep({
        EmailIdentity: 'example.com',
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      });

      expect(ses).toHaveReceivedCommandWith(DeleteEmailIdentityCommand, {
        EmailIdentity: 'example.com',
      });
      expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 2);
      expect(ses.commandCalls(CreateEmailIdentityCommand)[1]?.args[0].input).toMatchObject({
        Tags: [{ Key: 'tenant', Value: 'acme' }],
      });
      expect(result).toMatchObject({
        restart: { method: 'RECREATED' },
        dkim: { tokens: ['newtoken'], status: 'PENDING' },
      });
    });

    it('does not recreate a failed identity when that would lose a sending policy or a custom MAIL FROM', async () => {
      ses.on(GetEmailIdentityCommand).resolves(
        easyExisting({
          DkimAttributes: { ...easyExisting().DkimAttributes, Status: 'FAILED' },
          Policies: { 'tenant-send': '{}' },
          MailFromAttributes: {
            MailFromDomain: 'bounce.example.com',
            MailFromDomainStatus: 'SUCCESS',
            BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
          },
        }),
      );

      const error = await rejection(createIdentityStep(easyRequest));

      expect(error.name).toBe('ConflictError');
      expect(error.message).toContain('"tenant-send"');
      expect(error.message).toContain('bounce.example.com');
      expect(ses).not.toHaveReceivedCommand(DeleteEmailIdentityCommand);
    });

    it('sends an unverified address a new verification message by recreating it', async () => {
      ses.on(GetEmailIdentityCommand).resolves({
        IdentityType: 'EMAIL_ADDRESS',
        VerifiedForSendingStatus: false,
      });
      ses
        .on(CreateEmailIdentityCommand)
        .rejectsOnce(new AlreadyExistsException({ message: 'exists', ...meta }))
        .resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false });

      const result = await createIdentityStep({ EmailIdentity: 'jane@example.com' });

      expect(ses).toHaveReceivedCommandWith(DeleteEmailIdentityCommand, {
        EmailIdentity: 'jane@example.com',
      });
      expect(result).toMatchObject({ adopted: true, restart: { method: 'RECREATED' }, dkim: null });
    });

    it('adopts a verified address as it is', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true });

      const result = await createIdentityStep({ EmailIdentity: 'jane@example.com' });

      expect(result).toMatchObject({
        adopted: true,
        restart: null,
        identity_type: 'EMAIL_ADDRESS',
      });
      expect(ses).not.toHaveReceivedCommand(DeleteEmailIdentityCommand);
    });

    it('gives an unverified BYODKIM identity a freshly generated key for the selector', async () => {
      ses.on(GetEmailIdentityCommand).resolves(byodkimExisting('s1'));
      ses.on(PutEmailIdentityDkimSigningAttributesCommand).resolves({ DkimStatus: 'PENDING' });

      const result = await createIdentityStep(generatedRequest('RSA_1024_BIT'));

      const put = ses.commandCalls(PutEmailIdentityDkimSigningAttributesCommand)[0]?.args[0].input;
      expect(put?.SigningAttributes?.DomainSigningSelector).toBe('s1');
      const publicKey = createPublicKey(
        createPrivateKey({
          key: Buffer.from(put?.SigningAttributes?.DomainSigningPrivateKey ?? '', 'base64'),
          format: 'der',
          type: 'pkcs1',
        }),
      )
        .export({ type: 'spki', format: 'der' })
        .toString('base64');
      expect(result).toMatchObject({
        restart: { method: 'NEW_KEY' },
        dkim: { public_key: publicKey },
      });
    });

    it.each<
      [string, object, Omit<GetEmailIdentityCommandOutput, '$metadata'>, RegExp, (() => void)?]
    >([
      [
        'the request asks for Easy DKIM and the identity uses BYODKIM',
        easyRequest,
        byodkimExisting('old'),
        /the identity uses BYODKIM with selector "old", the request asks for Easy DKIM/,
      ],
      [
        'the request asks for BYODKIM and the identity uses Easy DKIM',
        secretRequest,
        easyExisting(),
        /the identity uses Easy DKIM, the request asks for BYODKIM with selector "s1"/,
      ],
      [
        'the selectors differ',
        secretRequest,
        byodkimExisting('old'),
        /DKIM selector: the identity has "old", the request asks for "s1"/,
      ],
      [
        'the identity never had DKIM set up',
        easyRequest,
        {
          IdentityType: 'DOMAIN',
          DkimAttributes: { SigningAttributesOrigin: 'AWS_SES', Tokens: [] },
        },
        /the identity has no Easy DKIM tokens/,
      ],
      [
        'the Easy DKIM key lengths differ',
        {
          EmailIdentity: 'example.com',
          DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        },
        easyExisting(),
        /Easy DKIM key length: the identity has RSA_2048_BIT, the request asks for RSA_1024_BIT/,
      ],
      [
        "the selector's DNS record holds another key than the request's (SES may sign with it)",
        secretRequest,
        byodkimExisting('s1'),
        /the TXT record of selector "s1" holds another public key/,
        () => publishKey(testKeys.rsa1024PublicKey),
      ],
      [
        'a generated key would replace the key of a verified identity (SES does not reveal it)',
        generatedRequest(),
        {
          ...byodkimExisting('s1'),
          VerifiedForSendingStatus: true,
          DkimAttributes: { ...byodkimExisting('s1').DkimAttributes, Status: 'SUCCESS' },
        },
        /verified with a key of selector "s1" that SES does not reveal/,
      ],
    ])(
      'fails with ConflictError, pointing to the DKIM change route, when %s',
      async (_label, request, existing, message, arrange) => {
        arrange?.();
        ses.on(GetEmailIdentityCommand).resolves(existing);

        const error = await rejection(createIdentityStep(request));

        expect(error.name).toBe('ConflictError');
        expect(error.message).toMatch(/^Email identity example\.com already exists in SES/);
        expect(error.message).toMatch(message);
        expect(error.message).toContain('PUT /identities/example.com/dkim');
        expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
        expect(ses).not.toHaveReceivedCommand(DeleteEmailIdentityCommand);
        expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
      },
    );

    it('fails with a retryable ConcurrentModificationError when the identity vanished before it was read', async () => {
      ses.on(GetEmailIdentityCommand).rejects(new NotFoundException({ message: 'gone', ...meta }));

      const error = await rejection(createIdentityStep(easyRequest));

      expect(error.name).toBe('ConcurrentModificationError');
    });

    it('fails with a retryable ThrottlingError when reading the identity is throttled', async () => {
      ses.on(GetEmailIdentityCommand).rejects(
        new TooManyRequestsException({
          message: 'slow down',
          $metadata: { httpStatusCode: 429 },
        }),
      );

      const error = await rejection(createIdentityStep(easyRequest));

      expect(error.name).toBe('ThrottlingError');
      expect(error.message).toContain('GetEmailIdentity example.com');
    });
  });

  describe('SES errors', () => {
    it.each<[string, Error, ErrorName]>([
      [
        'TooManyRequestsException',
        new TooManyRequestsException({ message: 'slow', $metadata: { httpStatusCode: 429 } }),
        'ThrottlingError',
      ],
      [
        'ConcurrentModificationException',
        new ConcurrentModificationException({
          message: 'busy',
          $metadata: { httpStatusCode: 500 },
        }),
        'ConcurrentModificationError',
      ],
      [
        'InternalServiceErrorException',
        new InternalServiceErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
        'ServiceUnavailableError',
      ],
      [
        'a network failure',
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        'ServiceUnavailableError',
      ],
      [
        'BadRequestException',
        new BadRequestException({ message: 'bad', ...meta }),
        'SesBadRequestError',
      ],
      [
        'LimitExceededException',
        new LimitExceededException({ message: 'too many identities', ...meta }),
        'SesLimitExceededError',
      ],
      [
        'NotFoundException',
        new NotFoundException({ message: 'not found', ...meta }),
        'SesNotFoundError',
      ],
    ])(
      'turns %s from CreateEmailIdentity into %s, keeping it as the cause',
      async (_label, sesError, name) => {
        ses.on(CreateEmailIdentityCommand).rejects(sesError);

        const error = await rejection(createIdentityStep(easyRequest));

        expect(error.name).toBe(name);
        expect(error.cause).toBe(sesError);
        expect(error.message).toContain('CreateEmailIdentity example.com');
      },
    );

    it('says that the configuration set does not exist, naming it, when SES answers NotFound', async () => {
      ses.on(CreateEmailIdentityCommand).rejects(
        new NotFoundException({
          message: 'Configuration set <missing-set> does not exist.',
          ...meta,
        }),
      );

      const error = await rejection(
        createIdentityStep({ EmailIdentity: 'example.com', ConfigurationSetName: 'missing-set' }),
      );

      expect(error.name).toBe('SesNotFoundError');
      expect(error.message).toMatch(/^The configuration set "missing-set" does not exist/);
    });
  });

  describe('validation', () => {
    it('fails with ValidationError listing every problem, before any AWS call', async () => {
      const error = await rejection(
        createIdentityStep({ EmailIdentity: 'localhost', Tags: [{ Key: 'aws:x' }], Extra: true }),
      );

      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details.map((detail) => detail.field)).toEqual([
        'EmailIdentity',
        'Tags[0].Key',
        'Extra',
      ]);
      expect(ses).not.toHaveReceivedAnyCommand();
      expect(secrets).not.toHaveReceivedAnyCommand();
    });

    it('refuses a private key in the workflow input, pointing to the secret ARN', async () => {
      const error = await rejection(
        createIdentityStep({
          EmailIdentity: 'example.com',
          DkimSigningAttributes: {
            DomainSigningSelector: 's1',
            DomainSigningPrivateKey: testKeys.rsa2048Pkcs1,
          },
        }),
      );

      expect((error as ValidationError).details).toEqual([
        {
          field: 'DkimSigningAttributes.DomainSigningPrivateKey',
          message: expect.stringContaining('DomainSigningPrivateKeySecretArn'),
        },
      ]);
      expect(ses).not.toHaveReceivedAnyCommand();
    });
  });

  describe('sample events', () => {
    it.each([
      ['create-identity-easy-dkim.json', 'AWS_SES'],
      ['create-identity-byodkim-secret.json', 'EXTERNAL'],
      ['create-identity-byodkim-generated.json', 'EXTERNAL'],
      ['create-identity-address.json', null],
    ])(
      'events/%s is a valid input that creates an identity with DKIM origin %s',
      async (file, origin) => {
        const event: unknown = JSON.parse(
          readFileSync(new URL(`../../../events/${file}`, import.meta.url), 'utf8'),
        );
        ses.on(CreateEmailIdentityCommand).resolves({
          DkimAttributes:
            origin === 'AWS_SES'
              ? { SigningAttributesOrigin: 'AWS_SES', Tokens: TOKENS, Status: 'PENDING' }
              : { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['selector'], Status: 'PENDING' },
        });

        const result = await createIdentityStep(event);

        expect(result.adopted).toBe(false);
        expect(result.dkim?.origin ?? null).toBe(origin);
      },
    );
  });
});
