import { readFileSync } from 'node:fs';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  NotFoundException,
  PutEmailIdentityDkimSigningAttributesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
// The handler reads its configuration, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler } from '#api/request-dkim-change/handler.js';
import { dkimChangeRequestOf } from '#api/request-dkim-change/request-dkim-change.js';
import { handler as startVerification } from '#api/start-verification/handler.js';
import { generateDkimKeyPair } from '#shared/dkim/keys.js';
import { signingSnapshotOf } from '#shared/dkim/signing.js';
import { MAX_BODY_BYTES } from '#shared/http/body.js';
import { parseDkimChangeRequest } from '#shared/request/index.js';
import { clock, useClock } from '#shared/runtime/clock.js';
import { sesIdentityOf } from '#shared/ses/identity-view.js';
import { prepareDkimChange } from '#steps/prepare-dkim-change/prepare-dkim-change.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  registryItem,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, lambdaContext, postEvent, putDkimEvent, sdkError } from './support.js';

afterAll(async () => {
  await registry.close();
});

const NOW = new Date('2026-01-15T09:30:00.000Z');
const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:ses-identity-verifier/dkim-private-keys/mail.example.com-0123456789ab-AbCdEf';

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`;
}

/** SES's answer for a domain that signs with Easy DKIM (2048-bit), last key made at `lastKeyAt`. */
function easyDkimIdentity(lastKeyAt = new Date('2026-01-01T00:00:00.000Z')) {
  return {
    IdentityType: 'DOMAIN',
    VerifiedForSendingStatus: true,
    DkimAttributes: {
      SigningEnabled: true,
      Status: 'SUCCESS',
      SigningAttributesOrigin: 'AWS_SES',
      Tokens: ['tokena', 'tokenb', 'tokenc'],
      CurrentSigningKeyLength: 'RSA_2048_BIT',
      NextSigningKeyLength: 'RSA_2048_BIT',
      LastKeyGenerationTimestamp: lastKeyAt,
    },
  } satisfies Omit<GetEmailIdentityCommandOutput, '$metadata'>;
}

/** SES's answer for a domain that signs with BYODKIM: a switch to Easy DKIM is a change. */
function byodkimIdentity() {
  return {
    IdentityType: 'DOMAIN',
    VerifiedForSendingStatus: true,
    DkimAttributes: {
      SigningEnabled: true,
      Status: 'SUCCESS',
      SigningAttributesOrigin: 'EXTERNAL',
      Tokens: ['sel2025'],
    },
  } satisfies Omit<GetEmailIdentityCommandOutput, '$metadata'>;
}

describe('RequestDkimChange (PUT /identities/{identity}/dkim)', () => {
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  const ses = mockClient(SESv2Client);
  let privateKey: string;

  /** The name and parsed input of the one StartExecution call. */
  function startedExecution() {
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    return {
      name: input?.name ?? '',
      rawInput: input?.input ?? '',
      input: JSON.parse(input?.input ?? '{}'),
    };
  }

  function startedNames(): string[] {
    return sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name ?? '');
  }

  function suppliedKeyBody(key = privateKey) {
    return {
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: { DomainSigningSelector: 'sel2026', DomainSigningPrivateKey: key },
    };
  }

  beforeAll(async () => {
    privateKey = (await generateDkimKeyPair('RSA_1024_BIT')).privateKey;
  });

  beforeEach(async () => {
    sfn.reset();
    secrets.reset();
    ses.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    // A repeat of a run that goes makes sure its execution exists.
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArn(input.name),
      startDate: NOW,
    }));
    secrets.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'ignored' });
    secrets.on(DeleteSecretCommand).resolves({});
    ses.on(GetEmailIdentityCommand).resolves(easyDkimIdentity());
  });

  afterEach(() => {
    useClock();
  });

  describe('accepts every kind of change', () => {
    it.each([
      [
        'to Easy DKIM',
        'api-put-dkim-easy-dkim.json',
        {
          Operation: 'ChangeDkimSigning',
          EmailIdentity: 'mail.example.com',
          SigningAttributesOrigin: 'AWS_SES',
          Dns: { Provider: 'route53' },
        },
      ],
      [
        'to BYODKIM with a generated key',
        'api-put-dkim-byodkim-generated-key.json',
        {
          Operation: 'ChangeDkimSigning',
          EmailIdentity: 'news.example.org',
          SigningAttributesOrigin: 'EXTERNAL',
          SigningAttributes: { GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' } },
          Dns: { Provider: 'manual' },
        },
      ],
      [
        'a BYODKIM rotation to a named selector',
        'api-put-dkim-byodkim-rotation.json',
        {
          Operation: 'ChangeDkimSigning',
          EmailIdentity: 'news.example.org',
          SigningAttributesOrigin: 'EXTERNAL',
          SigningAttributes: { DomainSigningSelector: 'ses2026q3', GenerateDomainSigningKey: {} },
          Dns: { Provider: 'manual' },
        },
      ],
      [
        'an Easy DKIM key length change',
        'api-put-dkim-key-length.json',
        {
          Operation: 'ChangeDkimSigning',
          EmailIdentity: 'mail.example.com',
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        },
      ],
    ])(
      'starts a run for %s (events/%s) with the change as its input',
      async (_label, file, expected) => {
        // Every sample is a change for a domain on BYODKIM (to Easy DKIM included).
        ses
          .on(GetEmailIdentityCommand)
          .resolves(
            file === 'api-put-dkim-key-length.json' ? easyDkimIdentity() : byodkimIdentity(),
          );
        const response = await handler(apiEvent(file), lambdaContext);

        expect(response.statusCode).toBe(202);
        const { name, input } = startedExecution();
        expect(input).toEqual(expected);
        expect(parseDkimChangeRequest(input, { keyDelivery: 'secret' })).toEqual(expected);
        expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
          stateMachineArn: STATE_MACHINE_ARN,
          name,
        });
        expect(name.startsWith(expected.EmailIdentity.replaceAll('.', '_'))).toBe(true);
        expect(bodyOf(response)).toEqual({
          success: true,
          data: {
            id: name,
            created_at: NOW.toISOString(),
            identity: expected.EmailIdentity,
            identity_type: 'DOMAIN',
            status: 'PENDING',
            execution_arn: executionArn(name),
            operation: 'ChangeDkimSigning',
            signing_attributes_origin: expected.SigningAttributesOrigin,
            repeated: false,
          },
        });
        expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
          EmailIdentity: expected.EmailIdentity,
        });
        expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
        expect(await registryItem(expected.EmailIdentity)).toMatchObject({
          status: 'PENDING',
          active_run_id: name,
          latest_run: { id: name, operation: 'ChangeDkimSigning' },
        });
      },
    );

    it('accepts the supplied-key sample (to BYODKIM with your own key)', async () => {
      const response = await handler(
        apiEvent('api-put-dkim-byodkim-supplied-key.json'),
        lambdaContext,
      );

      expect(response.statusCode).toBe(202);
      expect(startedExecution().input).toEqual({
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'mail.example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 'sel2026',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
        Dns: { Provider: 'route53' },
      });
    });
  });

  it('stores a supplied private key in a prefixed, tagged secret and passes only its ARN', async () => {
    const response = await handler(
      putDkimEvent('mail.example.com', suppliedKeyBody()),
      lambdaContext,
    );

    expect(response.statusCode).toBe(202);
    expect(secrets).toHaveReceivedCommandWith(CreateSecretCommand, {
      SecretString: privateKey,
      Tags: [{ Key: 'ses-identity-verifier:identity', Value: 'mail.example.com' }],
    });
    const secretName = secrets.commandCalls(CreateSecretCommand)[0]?.args[0].input.Name ?? '';
    expect(secretName).toMatch(
      /^ses-identity-verifier\/dkim-private-keys\/mail\.example\.com-[0-9a-f]{12}$/,
    );
    const { rawInput, input, name } = startedExecution();
    expect(input.SigningAttributes).toEqual({
      DomainSigningSelector: 'sel2026',
      DomainSigningPrivateKeySecretArn: SECRET_ARN,
    });
    expect(rawInput).not.toContain(privateKey);
    expect(rawInput).not.toContain(privateKey.slice(0, 40));
    expect(name).not.toContain(privateKey.slice(0, 16));
    expect(response.body).not.toContain(privateKey.slice(0, 40));
    expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
  });

  it('takes the identity from the path as API Gateway decoded it, normalised', async () => {
    ses.on(GetEmailIdentityCommand).resolves(byodkimIdentity());
    await handler(
      putDkimEvent('Mail.Example.COM.', { SigningAttributesOrigin: 'AWS_SES' }),
      lambdaContext,
    );
    await handler(
      putDkimEvent('bücher.example', { SigningAttributesOrigin: 'AWS_SES' }),
      lambdaContext,
    );

    const inputs = sfn
      .commandCalls(StartExecutionCommand)
      .map((call) => JSON.parse(call.args[0].input.input ?? '{}').EmailIdentity);
    expect(inputs).toEqual(['mail.example.com', 'xn--bcher-kva.example']);
  });

  it('rejects EmailIdentity and Operation in the body as unknown fields, with the other problems', async () => {
    const response = await handler(
      putDkimEvent('mail.example.com', {
        EmailIdentity: 'other.example.com',
        Operation: 'CreateEmailIdentity',
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { DomainSigningSelector: 'sel1', NextSigningKeyLength: 'RSA_4096_BIT' },
        Colour: 'blue',
      }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(400);
    const { error } = bodyOf(response);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'Colour',
      'EmailIdentity',
      'Operation',
      'SigningAttributes.DomainSigningSelector',
      'SigningAttributes.NextSigningKeyLength',
    ]);
    expect(error.details).toEqual(
      expect.arrayContaining([
        { field: 'EmailIdentity', message: expect.stringMatching(/^is not a known field/) },
        { field: 'Operation', message: expect.stringMatching(/^is not a known field/) },
      ]),
    );
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
  });

  it.each([
    ['an address', 'ops@example.com', /domain/],
    ['an IP address', '192.0.2.10', /IP address/],
    ['a label with an underscore', 'bad_label.example.com', /label/],
  ])(
    'reports %s in the path under "identity", together with body problems',
    async (_label, identity, message) => {
      const response = await handler(
        putDkimEvent(identity, { SigningAttributesOrigin: 'RSA' }),
        lambdaContext,
      );

      expect(response.statusCode).toBe(400);
      const { details } = bodyOf(response).error;
      expect(details).toEqual(
        expect.arrayContaining([
          { field: 'identity', message: expect.stringMatching(message) },
          { field: 'SigningAttributesOrigin', message: 'must be AWS_SES or EXTERNAL' },
        ]),
      );
      expect(sfn.calls()).toHaveLength(0);
    },
  );

  it.each([
    ['BYODKIM without a key', { SigningAttributesOrigin: 'EXTERNAL' }, 'SigningAttributes'],
    [
      'two keys',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
          GenerateDomainSigningKey: {},
        },
      },
      'SigningAttributes',
    ],
    [
      'a key length with BYODKIM',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {}, NextSigningKeyLength: 'RSA_1024_BIT' },
      },
      'SigningAttributes.NextSigningKeyLength',
    ],
    [
      'no origin',
      { SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' } },
      'SigningAttributesOrigin',
    ],
    [
      'a bad selector',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: '-x-', GenerateDomainSigningKey: {} },
      },
      'SigningAttributes.DomainSigningSelector',
    ],
    [
      'a bad hosted zone',
      { SigningAttributesOrigin: 'AWS_SES', Dns: { HostedZoneId: 'nope!' } },
      'Dns.HostedZoneId',
    ],
  ])('returns 400 VALIDATION_ERROR for %s, naming %s', async (_label, body, field) => {
    const response = await handler(putDkimEvent('mail.example.com', body), lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field })]),
    );
    expect(sfn.calls()).toHaveLength(0);
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });

  it.each([
    ['an array', '[]', 'body'],
    ['a string', '"AWS_SES"', 'body'],
    ['malformed JSON', '{"SigningAttributesOrigin": ', 'body'],
    ['an empty body', '', 'body'],
  ])('returns 400 VALIDATION_ERROR for %s', async (_label, body, field) => {
    const response = await handler(putDkimEvent('mail.example.com', body), lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [expect.objectContaining({ field })],
    });
  });

  it('does not quote a private key in validation details or in a malformed-JSON answer', async () => {
    const invalid = await handler(
      putDkimEvent('mail.example.com', {
        ...suppliedKeyBody(),
        SigningAttributesOrigin: 'AWS_SES',
      }),
      lambdaContext,
    );
    const malformed = await handler(
      putDkimEvent(
        'mail.example.com',
        `{"SigningAttributesOrigin": "EXTERNAL", "SigningAttributes": {"DomainSigningPrivateKey": ${privateKey}}}`,
      ),
      lambdaContext,
    );

    expect(invalid.statusCode).toBe(400);
    expect(malformed.statusCode).toBe(400);
    for (const response of [invalid, malformed]) {
      expect(response.body).not.toContain(privateKey.slice(0, 20));
    }
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });

  it('returns 400 when the path has no identity', async () => {
    const event = putDkimEvent('mail.example.com', { SigningAttributesOrigin: 'AWS_SES' });
    event.pathParameters = {};

    const response = await handler(event, lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details).toEqual([{ field: 'identity', message: 'is required' }]);
  });

  it('returns 404 NOT_FOUND, starting nothing and storing no key, when SES does not know the identity', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'Email identity not found', $metadata: {} }));

    const response = await handler(
      putDkimEvent('mail.example.com', suppliedKeyBody()),
      lambdaContext,
    );

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).error).toEqual({
      code: 'NOT_FOUND',
      message:
        'mail.example.com is not an SES identity in this account and Region: create it first (POST /identities)',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    expect(await registryItem('mail.example.com')).toBeUndefined();
  });

  describe('a change that changes nothing', () => {
    it.each([
      ['Easy DKIM asked of an Easy DKIM identity', { SigningAttributesOrigin: 'AWS_SES' }],
      [
        'the key length SES generates next already',
        {
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
        },
      ],
      [
        'Easy DKIM with a DNS provider named',
        { SigningAttributesOrigin: 'AWS_SES', Dns: { Provider: 'route53' } },
      ],
    ])(
      'answers 200 with the identity as GET shows it, and starts no run, for %s',
      async (_label, body) => {
        const response = await handler(putDkimEvent('mail.example.com', body), lambdaContext);

        expect(response.statusCode).toBe(200);
        const data = bodyOf(response).data;
        expect(data).toMatchObject({
          identity: 'mail.example.com',
          identity_type: 'DOMAIN',
          status: 'VERIFIED',
          dkim_status: 'SUCCESS',
          managed: false,
          latest_run: null,
          ses: {
            dkim: { origin: 'AWS_SES', tokens: ['tokena', 'tokenb', 'tokenc'] },
            verified_for_sending: true,
          },
        });
        expect(data.records).toHaveLength(3);
        expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
        expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
        expect(await registryItem('mail.example.com')).toBeUndefined();
      },
    );

    it('still starts a run for a key length SES does not generate next', async () => {
      const response = await handler(
        putDkimEvent('mail.example.com', {
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        }),
        lambdaContext,
      );

      expect(response.statusCode).toBe(202);
      expect(startedNames()).toHaveLength(1);
    });

    it('answers a repeat of a run that went with that run, not with the identity', async () => {
      ses.on(GetEmailIdentityCommand).resolves(byodkimIdentity());
      const body = { SigningAttributesOrigin: 'AWS_SES' };
      const first = await handler(putDkimEvent('mail.example.com', body), lambdaContext);
      ses.on(GetEmailIdentityCommand).resolves(easyDkimIdentity());

      const again = await handler(putDkimEvent('mail.example.com', body), lambdaContext);

      expect(first.statusCode).toBe(202);
      expect(again.statusCode).toBe(202);
      expect(bodyOf(again).data).toMatchObject({ id: bodyOf(first).data.id, repeated: true });
    });
  });

  describe('once-a-day key length change', () => {
    const keyLengthChange = {
      SigningAttributesOrigin: 'AWS_SES',
      SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
    };

    it('returns 409 CONFLICT saying when the change is allowed again, within 24 hours of the last key', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves(easyDkimIdentity(new Date('2026-01-14T18:00:00.000Z')));

      const response = await handler(
        putDkimEvent('mail.example.com', keyLengthChange),
        lambdaContext,
      );

      expect(response.statusCode).toBe(409);
      expect(bodyOf(response).error).toEqual({
        code: 'CONFLICT',
        message:
          'SES changes an Easy DKIM key length at most once a day: the last key was generated at 2026-01-14T18:00:00.000Z, so the next change is allowed from 2026-01-15T18:00:00.000Z',
      });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });

    it('refuses with exactly the message the PrepareDkimChange step gives', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .resolves(easyDkimIdentity(new Date('2026-01-15T01:00:00.000Z')));

      const response = await handler(
        putDkimEvent('mail.example.com', keyLengthChange),
        lambdaContext,
      );
      const step = prepareDkimChange(
        parseDkimChangeRequest(
          { Operation: 'ChangeDkimSigning', EmailIdentity: 'mail.example.com', ...keyLengthChange },
          { keyDelivery: 'secret' },
        ),
        signingSnapshotOf(
          sesIdentityOf('mail.example.com', easyDkimIdentity(new Date('2026-01-15T01:00:00.000Z'))),
        ),
        'run-1',
        clock.now(),
        { keySecretPrefix: 'stack/dkim-private-keys/', registryItem: async () => undefined },
      );

      await expect(step).rejects.toMatchObject({
        name: 'ConflictError',
        message: bodyOf(response).error.message,
      });
      expect(ses).not.toHaveReceivedCommand(PutEmailIdentityDkimSigningAttributesCommand);
    });

    it.each([
      [
        '24 hours after the last key',
        easyDkimIdentity(new Date('2026-01-14T09:30:00.000Z')),
        keyLengthChange,
      ],
      [
        'a switch from BYODKIM that names a length',
        {
          IdentityType: 'DOMAIN',
          DkimAttributes: {
            SigningAttributesOrigin: 'EXTERNAL',
            Tokens: ['sel2025'],
            LastKeyGenerationTimestamp: new Date('2026-01-15T09:00:00.000Z'),
          },
        },
        keyLengthChange,
      ],
    ])('starts the run for %s', async (_label, identity, body) => {
      ses.on(GetEmailIdentityCommand).resolves(identity as GetEmailIdentityCommandOutput);

      const response = await handler(putDkimEvent('mail.example.com', body), lambdaContext);

      expect(response.statusCode).toBe(202);
      expect(sfn).toHaveReceivedCommand(StartExecutionCommand);
    });
  });

  describe('a key length change while another is pending', () => {
    /** SES signs with 2048 bits and was asked for 1024 bits before: that change is pending. */
    const pendingTo1024 = () => {
      const identity = easyDkimIdentity(new Date('2026-01-01T00:00:00.000Z'));
      return {
        ...identity,
        DkimAttributes: { ...identity.DkimAttributes, NextSigningKeyLength: 'RSA_1024_BIT' },
      } as GetEmailIdentityCommandOutput;
    };

    it('returns 409 CONFLICT naming the pending change, and starts no run', async () => {
      ses.on(GetEmailIdentityCommand).resolves(pendingTo1024());

      const response = await handler(
        putDkimEvent('mail.example.com', {
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
        }),
        lambdaContext,
      );

      expect(response.statusCode).toBe(409);
      expect(bodyOf(response).error.code).toBe('CONFLICT');
      expect(bodyOf(response).error.message).toContain(
        'An Easy DKIM key length change is still pending: SES signs with RSA_2048_BIT and has not yet rotated to the RSA_1024_BIT key',
      );
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });

    it('answers 200 with nothing to change when the length asked is the one pending', async () => {
      ses.on(GetEmailIdentityCommand).resolves(pendingTo1024());

      const response = await handler(
        putDkimEvent('mail.example.com', {
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        }),
        lambdaContext,
      );

      expect(response.statusCode).toBe(200);
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });
  });

  describe('the same change again', () => {
    it('gets the run that goes, asking SES nothing and storing no second key', async () => {
      const first = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );
      ses.resetHistory();
      secrets.resetHistory();

      const response = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );

      expect(response.statusCode).toBe(202);
      expect(bodyOf(response).data).toEqual({ ...bodyOf(first).data, repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
      expect(response.body).not.toContain(privateKey.slice(0, 40));
    });

    it('is recognised whatever the spelling of the identity, the order of fields or a default written out', async () => {
      await handler(
        putDkimEvent('mail.example.com', {
          SigningAttributesOrigin: 'EXTERNAL',
          SigningAttributes: { GenerateDomainSigningKey: {} },
          Dns: { Provider: 'route53' },
        }),
        lambdaContext,
      );
      const response = await handler(
        putDkimEvent('MAIL.example.com.', {
          Dns: { Provider: 'route53' },
          SigningAttributes: { GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' } },
          SigningAttributesOrigin: 'EXTERNAL',
        }),
        lambdaContext,
      );

      expect(bodyOf(response).data.repeated).toBe(true);
      expect(startedNames()).toHaveLength(1);
    });

    it('gets the run that goes under a new Idempotency-Key', async () => {
      const first = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );

      const response = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody(), { 'Idempotency-Key': 'rotation-2' }),
        lambdaContext,
      );

      expect(bodyOf(response).data).toMatchObject({ id: bodyOf(first).data.id, repeated: true });
      expect(startedNames()).toHaveLength(1);
    });

    it('starts a new run after a failed one only under a new Idempotency-Key', async () => {
      ses.on(GetEmailIdentityCommand).resolves(byodkimIdentity());
      const body = { SigningAttributesOrigin: 'AWS_SES' };
      const first = bodyOf(
        await handler(putDkimEvent('mail.example.com', body), lambdaContext),
      ).data;
      await endRunInRegistry('mail.example.com', first.id, 'FAILED', NOW);

      const repeat = await handler(putDkimEvent('mail.example.com', body), lambdaContext);
      const retry = await handler(
        putDkimEvent('mail.example.com', body, { 'Idempotency-Key': 'rotation-2' }),
        lambdaContext,
      );

      expect(bodyOf(repeat).data).toMatchObject({ id: first.id, status: 'FAILED', repeated: true });
      expect(bodyOf(retry).data).toMatchObject({ status: 'PENDING', repeated: false });
      expect(startedNames()).toEqual([first.id, bodyOf(retry).data.id]);
    });

    it('is the same run when StartExecution finds the execution already there; the extra secret goes', async () => {
      sfn
        .on(StartExecutionCommand)
        .rejects(
          new ExecutionAlreadyExists({ message: 'Execution already exists', $metadata: {} }),
        );

      const response = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );

      expect(response.statusCode).toBe(202);
      expect(bodyOf(response).data).toMatchObject({ repeated: true });
      expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, {
        SecretId: SECRET_ARN,
        ForceDeleteWithoutRecovery: true,
      });
    });

    it('rejects an Idempotency-Key that is not printable ASCII', async () => {
      const response = await handler(
        putDkimEvent(
          'mail.example.com',
          { SigningAttributesOrigin: 'AWS_SES' },
          { 'idempotency-key': 'x'.repeat(256) },
        ),
        lambdaContext,
      );

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.details).toEqual([
        { field: 'Idempotency-Key', message: expect.stringContaining('printable ASCII') },
      ]);
    });
  });

  describe('another request while a run holds the identity', () => {
    it.each([
      [
        'another key',
        async () => suppliedKeyBody((await generateDkimKeyPair('RSA_1024_BIT')).privateKey),
      ],
      [
        'another selector',
        async () => ({
          ...suppliedKeyBody(),
          SigningAttributes: {
            DomainSigningSelector: 'sel2027',
            DomainSigningPrivateKey: privateKey,
          },
        }),
      ],
    ])('returns 409 CONFLICT for a change with %s, naming the run', async (_label, secondBody) => {
      const first = bodyOf(
        await handler(putDkimEvent('mail.example.com', suppliedKeyBody()), lambdaContext),
      ).data;
      secrets.resetHistory();

      const response = await handler(
        putDkimEvent('mail.example.com', await secondBody()),
        lambdaContext,
      );

      expect(response.statusCode).toBe(409);
      expect(bodyOf(response).error).toEqual({
        code: 'CONFLICT',
        message: `A different request for mail.example.com is being worked on (run ${first.id}); wait for it to finish, or send the same request`,
      });
      expect(startedNames()).toEqual([first.id]);
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    });

    it('returns 409 CONFLICT for a change while the creation run goes, asking SES nothing', async () => {
      const created = await startVerification(
        postEvent({ EmailIdentity: 'mail.example.com' }),
        lambdaContext,
      );
      ses.resetHistory();

      const response = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );

      expect(response.statusCode).toBe(409);
      expect(bodyOf(response).error.message).toContain(`(run ${bodyOf(created).data.id})`);
      expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    });

    it('starts the change under its own name once the creation run has verified the identity', async () => {
      const created = bodyOf(
        await startVerification(postEvent({ EmailIdentity: 'mail.example.com' }), lambdaContext),
      ).data;
      await endRunInRegistry('mail.example.com', created.id, 'VERIFIED', NOW);
      ses.on(GetEmailIdentityCommand).resolves(byodkimIdentity());

      const response = await handler(
        putDkimEvent('mail.example.com', { SigningAttributesOrigin: 'AWS_SES' }),
        lambdaContext,
      );

      expect(response.statusCode).toBe(202);
      const changed = bodyOf(response).data;
      expect(changed).toMatchObject({ operation: 'ChangeDkimSigning', repeated: false });
      expect(changed.id).not.toBe(created.id);
      expect(startedNames()).toEqual([created.id, changed.id]);
    });
  });

  it.each([
    ['no Content-Type', undefined],
    ['text/plain', 'text/plain'],
  ])('returns 415 UNSUPPORTED_MEDIA_TYPE for %s', async (_label, contentType) => {
    const event = putDkimEvent('mail.example.com', { SigningAttributesOrigin: 'AWS_SES' });
    delete event.headers['content-type'];
    if (contentType) event.headers['Content-Type'] = contentType;

    const response = await handler(event, lambdaContext);

    expect(response.statusCode).toBe(415);
    expect(bodyOf(response).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('returns 413 PAYLOAD_TOO_LARGE for a body over the limit, before any AWS call', async () => {
    const response = await handler(
      putDkimEvent('mail.example.com', {
        SigningAttributesOrigin: 'AWS_SES',
        Padding: 'x'.repeat(MAX_BODY_BYTES),
      }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(413);
    expect(bodyOf(response).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(sfn.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it.each([
    [
      'SES GetEmailIdentity',
      () => ses.on(GetEmailIdentityCommand).rejects(sdkError('TooManyRequestsException', 429)),
    ],
    [
      'Step Functions StartExecution',
      () => sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException')),
    ],
    [
      'Secrets Manager CreateSecret',
      () => secrets.on(CreateSecretCommand).rejects(sdkError('ThrottlingException')),
    ],
  ])(
    'returns 429 THROTTLED when %s throttles, and leaves the identity free',
    async (_label, throttle) => {
      throttle();

      const response = await handler(
        putDkimEvent('mail.example.com', suppliedKeyBody()),
        lambdaContext,
      );

      expect(response.statusCode).toBe(429);
      expect(bodyOf(response).error.code).toBe('THROTTLED');
      expect(await registryItem('mail.example.com')).toBeUndefined();
    },
  );

  it('returns 500 INTERNAL_ERROR without the service message, and deletes the secret, when StartExecution fails', async () => {
    sfn.on(StartExecutionCommand).rejects(sdkError('InvalidExecutionInput'));

    const response = await handler(
      putDkimEvent('mail.example.com', suppliedKeyBody()),
      lambdaContext,
    );

    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'Internal error; the request may be retried',
    });
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: SECRET_ARN });
    expect(response.body).not.toContain(privateKey.slice(0, 40));
    expect(await registryItem('mail.example.com')).toBeUndefined();
  });
});

describe('the OpenAPI examples of PUT /identities/{identity}/dkim', () => {
  const openapi = parseYaml(
    readFileSync(new URL('../../../docs/api/openapi.yaml', import.meta.url), 'utf8'),
  );
  const examples: Record<string, { value: unknown }> =
    openapi.paths['/identities/{identity}/dkim'].put.requestBody.content['application/json']
      .examples;

  it('has one example per kind of change', () => {
    expect(Object.keys(examples).sort()).toEqual([
      'byodkimRotation',
      'easyDkimKeyLength',
      'toByodkimGeneratedKey',
      'toByodkimSuppliedKey',
      'toEasyDkim',
    ]);
  });

  it.each(Object.entries(examples).filter(([name]) => name !== 'toByodkimSuppliedKey'))(
    '%s is a valid change',
    (_name, example) => {
      expect(() => dkimChangeRequestOf('mail.example.com', example.value)).not.toThrow();
    },
  );
});
