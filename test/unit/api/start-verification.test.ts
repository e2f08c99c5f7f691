import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
const KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
// The handler reads its configuration, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler } from '#api/start-verification/handler.js';
import { generateDkimKeyPair } from '#shared/dkim/keys.js';
import { MAX_BODY_BYTES } from '#shared/http/body.js';
import { useClock } from '#shared/runtime/clock.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  registryItem,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, lambdaContext, postEvent, sdkError } from './support.js';

const NOW = new Date('2026-01-15T09:30:00.000Z');
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${KEY_SECRET_PREFIX}mail.example.com-0123456789ab-AbCdEf`;
const JSON_HEADERS = { 'content-type': 'application/json' };

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`;
}

afterAll(async () => {
  await registry.close();
});

describe('StartVerification (POST /identities)', () => {
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  let privateKey: string;

  beforeAll(async () => {
    privateKey = (await generateDkimKeyPair('RSA_1024_BIT')).privateKey;
  });

  beforeEach(async () => {
    sfn.reset();
    secrets.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArn(input.name),
      startDate: NOW,
    }));
    // A repeat of a run that goes makes sure its execution exists.
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    secrets.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'ignored' });
    secrets.on(DeleteSecretCommand).resolves({});
  });

  afterEach(() => {
    useClock();
  });

  function byodkimBody(identity = 'mail.example.com', key = privateKey) {
    return {
      EmailIdentity: identity,
      DkimSigningAttributes: { DomainSigningSelector: 'sel2026', DomainSigningPrivateKey: key },
    };
  }

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

  const post = (body: unknown, headers: Record<string, string> = JSON_HEADERS) =>
    handler(postEvent(body, headers), lambdaContext);

  it('starts an execution for an Easy DKIM request and answers 202 PENDING with its id', async () => {
    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(response.headers?.['Content-Type']).toBe('application/json');
    const { name, input } = startedExecution();
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name,
    });
    expect(input).toEqual({
      EmailIdentity: 'mail.example.com',
      Tags: [{ Key: 'tenant', Value: 'acme' }],
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      Dns: { Provider: 'route53' },
    });
    expect(bodyOf(response)).toEqual({
      success: true,
      data: {
        id: name,
        created_at: NOW.toISOString(),
        identity: 'mail.example.com',
        identity_type: 'DOMAIN',
        status: 'PENDING',
        execution_arn: executionArn(name),
        repeated: false,
      },
    });
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });

  it('claims the identity in the registry for the run, and never pages ListExecutions', async () => {
    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    const { id } = bodyOf(response).data;
    expect(await registryItem('mail.example.com')).toMatchObject({
      identity: 'mail.example.com',
      identity_type: 'DOMAIN',
      status: 'PENDING',
      active_run_id: id,
      latest_run: {
        id,
        execution_arn: executionArn(id),
        operation: 'CreateIdentity',
        status: 'PENDING',
        started_at: NOW.toISOString(),
      },
    });
    expect(sfn).not.toHaveReceivedCommand(ListExecutionsCommand);
  });

  it('names the execution within 80 characters of [0-9A-Za-z_-], starting with the identity', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    await post({ EmailIdentity: long });

    const { name } = startedExecution();
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[0-9A-Za-z_-]+$/);
    expect(name.startsWith('aaaa')).toBe(true);
  });

  it('normalises the identity first, so Mail.Example.COM. repeats a request for mail.example.com', async () => {
    const first = await post({ EmailIdentity: 'mail.example.com' });
    const second = await post({ EmailIdentity: 'Mail.Example.COM.' });

    expect(bodyOf(second).data).toMatchObject({ id: bodyOf(first).data.id, repeated: true });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  describe('the same request again', () => {
    it.each([
      ['"Tags": []', {}, { Tags: [] }],
      ['"Dns": {}', {}, { Dns: {} }],
      [
        'the default NextSigningKeyLength',
        {},
        { DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' } },
      ],
      [
        'its tags in another order',
        { Tags: [{ Key: 'a', Value: '1' }, { Key: 'b' }] },
        { Tags: [{ Key: 'b' }, { Key: 'a', Value: '1' }] },
      ],
    ])(
      'gets the same id, not a 409, when it differs by %s',
      async (_what, firstExtra, secondExtra) => {
        const first = await post({ EmailIdentity: 'mail.example.com', ...firstExtra });

        const second = await post({ EmailIdentity: 'mail.example.com', ...secondExtra });

        expect(second.statusCode).toBe(202);
        expect(bodyOf(second).data).toMatchObject({ id: bodyOf(first).data.id, repeated: true });
        expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      },
    );

    it('answers with the run that goes, storing no second secret and starting nothing', async () => {
      const first = await post(byodkimBody());
      secrets.resetHistory();

      const response = await post(byodkimBody());

      expect(response.statusCode).toBe(202);
      expect(bodyOf(response).data).toEqual({ ...bodyOf(first).data, repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
      expect(response.body).not.toContain(privateKey);
    });

    it('answers with the run that goes when sent under a new Idempotency-Key', async () => {
      const first = await post({ EmailIdentity: 'mail.example.com' });

      const response = await post(
        { EmailIdentity: 'mail.example.com' },
        { ...JSON_HEADERS, 'Idempotency-Key': 'retry-1' },
      );

      expect(bodyOf(response).data).toMatchObject({ id: bodyOf(first).data.id, repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    it.each([
      ['VERIFIED', null],
      ['FAILED', { code: 'DKIM_FAILED', message: 'SES gave up', retryable: true }],
      ['TIMED_OUT', { code: 'TIMED_OUT', message: 'No DKIM in 72 hours', retryable: true }],
    ] as const)('reports how the run ended (%s) and starts nothing', async (status, reason) => {
      const first = bodyOf(await post({ EmailIdentity: 'mail.example.com' })).data;
      await endRunInRegistry('mail.example.com', first.id, status, NOW, reason);

      const response = await post({ EmailIdentity: 'mail.example.com' });

      expect(bodyOf(response).data).toMatchObject({ id: first.id, status, repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    it.each(['FAILED', 'TIMED_OUT'] as const)(
      'starts a new run after a %s one when sent under a new Idempotency-Key, whatever its case',
      async (status) => {
        const first = bodyOf(await post({ EmailIdentity: 'mail.example.com' })).data;
        await endRunInRegistry('mail.example.com', first.id, status, NOW);

        const retry = await post(
          { EmailIdentity: 'mail.example.com' },
          { ...JSON_HEADERS, 'Idempotency-Key': 'retry-1' },
        );
        const retryAgain = await post(
          { EmailIdentity: 'mail.example.com' },
          { ...JSON_HEADERS, 'idempotency-key': 'retry-1' },
        );

        expect(bodyOf(retry).data).toMatchObject({ status: 'PENDING', repeated: false });
        expect(bodyOf(retry).data.id).not.toBe(first.id);
        expect(bodyOf(retryAgain).data).toMatchObject({
          id: bodyOf(retry).data.id,
          repeated: true,
        });
        expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
      },
    );

    it('is the same run when StartExecution finds the execution already there; the extra secret goes', async () => {
      sfn
        .on(StartExecutionCommand)
        .rejects(
          new ExecutionAlreadyExists({ message: 'Execution already exists', $metadata: {} }),
        );

      const response = await post(byodkimBody());

      expect(response.statusCode).toBe(202);
      expect(bodyOf(response).data).toMatchObject({ repeated: true });
      expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, {
        SecretId: SECRET_ARN,
        ForceDeleteWithoutRecovery: true,
      });
      expect(startedExecution().rawInput).not.toContain(privateKey);
    });
  });

  describe('a different request while a run holds the identity', () => {
    it('returns 409 CONFLICT naming the run, starting nothing and storing no key', async () => {
      const first = bodyOf(await post({ EmailIdentity: 'mail.example.com' })).data;

      const response = await post(byodkimBody());

      expect(response.statusCode).toBe(409);
      expect(bodyOf(response).error).toEqual({
        code: 'CONFLICT',
        message: expect.stringContaining(`(run ${first.id})`),
      });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
      expect(response.body).not.toContain(privateKey);
    });

    it('returns 409 CONFLICT for the same selector with another key', async () => {
      await post(byodkimBody());
      const otherKey = (await generateDkimKeyPair('RSA_1024_BIT')).privateKey;

      const response = await post(byodkimBody('mail.example.com', otherKey));

      expect(response.statusCode).toBe(409);
      expect(response.body).not.toContain(otherKey.slice(0, 40));
    });

    it('starts when only other identities are held', async () => {
      await post({ EmailIdentity: 'mail.example.co' });
      await post({ EmailIdentity: 'other.example.com', Tags: [{ Key: 'x', Value: 'y' }] });

      const response = await post({ EmailIdentity: 'mail.example.com' });

      expect(response.statusCode).toBe(202);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
    });

    it('starts once the run before it has ended', async () => {
      const first = bodyOf(await post({ EmailIdentity: 'mail.example.com' })).data;
      await endRunInRegistry('mail.example.com', first.id, 'FAILED', NOW);

      const response = await post({ EmailIdentity: 'mail.example.com', Tags: [{ Key: 'k' }] });

      expect(response.statusCode).toBe(202);
      expect(bodyOf(response).data.repeated).toBe(false);
    });

    it('never both start when sent at the same instant (20 trials)', async () => {
      const statuses: number[][] = [];
      for (let trial = 1; trial <= 20; trial += 1) {
        const identity = `t${trial}.example.com`;
        const responses = await Promise.all([
          post({ EmailIdentity: identity, Tags: [{ Key: 'tenant', Value: 'acme' }] }),
          post({
            EmailIdentity: identity,
            DkimSigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
          }),
        ]);
        statuses.push(responses.map((r) => r.statusCode).sort());
      }

      expect(statuses).toEqual(Array.from({ length: 20 }, () => [202, 409]));
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 20);
    });
  });

  describe('a supplied private key', () => {
    it('goes into a prefixed, tagged secret; the execution gets only its ARN', async () => {
      const response = await post(byodkimBody());

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
      expect(input.DkimSigningAttributes).toEqual({
        DomainSigningSelector: 'sel2026',
        DomainSigningPrivateKeySecretArn: SECRET_ARN,
      });
      expect(rawInput).not.toContain(privateKey);
      expect(name).not.toContain(privateKey.slice(0, 16));
      expect(response.body).not.toContain(privateKey);
      expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
    });

    it('is not kept in the registry, not even as part of its item or its restart request', async () => {
      await post(byodkimBody());

      const stored = await registryItem('mail.example.com');
      const item = JSON.stringify(stored);
      expect(item).not.toContain(privateKey.slice(0, 40));
      expect(item).not.toContain(privateKey.slice(-40));
      // The automatic restart keeps the request without the key (and says it cannot resend one).
      expect(JSON.parse(stored?.restart_request_json ?? 'null')).toMatchObject({
        DkimSigningAttributes: { DomainSigningSelector: 'sel2026' },
      });
      expect(stored?.restart_request_json).not.toContain('DomainSigningPrivateKey');
    });

    it('is not quoted in validation details', async () => {
      const response = await post({
        EmailIdentity: 'user@example.com',
        DkimSigningAttributes: { DomainSigningPrivateKey: privateKey, DomainSigningSelector: 's1' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain(privateKey.slice(0, 20));
      expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    });
  });

  describe('refusals', () => {
    it('returns 400 VALIDATION_ERROR listing every problem with its field path', async () => {
      const response = await handler(
        apiEvent('api-start-verification-invalid.json'),
        lambdaContext,
      );

      expect(response.statusCode).toBe(400);
      const { error } = bodyOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details.map((d: { field: string }) => d.field)).toEqual(
        expect.arrayContaining([
          'EmailIdentity',
          'Tags[0].Key',
          'DkimSigningAttributes.NextSigningKeyLength',
        ]),
      );
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(await registryItem('mail.example.com')).toBeUndefined();
    });

    it('rejects an Idempotency-Key that is not printable ASCII, naming the header', async () => {
      const response = await post(
        { EmailIdentity: 'mail.example.com' },
        { ...JSON_HEADERS, 'idempotency-key': 'x'.repeat(256) },
      );

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.details).toEqual([
        { field: 'Idempotency-Key', message: expect.stringContaining('printable ASCII') },
      ]);
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });

    it('returns 400 VALIDATION_ERROR for malformed JSON without quoting the body', async () => {
      const body = `{"EmailIdentity": "mail.example.com", "DkimSigningAttributes": {"DomainSigningPrivateKey": ${privateKey}}}`;
      const response = await post(body);

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: [{ field: 'body' }],
      });
      expect(response.body).not.toContain(privateKey.slice(0, 20));
    });

    it('returns 400 for the malformed sample event', async () => {
      const response = await handler(
        apiEvent('api-start-verification-malformed.json'),
        lambdaContext,
      );

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.code).toBe('VALIDATION_ERROR');
    });

    it.each([
      ['no Content-Type', {}],
      ['text/plain', { 'Content-Type': 'text/plain' }],
      ['form encoding', { 'content-type': 'application/x-www-form-urlencoded' }],
    ])('returns 415 UNSUPPORTED_MEDIA_TYPE for %s', async (_label, headers) => {
      const response = await post({ EmailIdentity: 'mail.example.com' }, headers);

      expect(response.statusCode).toBe(415);
      expect(bodyOf(response)).toMatchObject({
        success: false,
        error: { code: 'UNSUPPORTED_MEDIA_TYPE' },
      });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });

    it('returns 413 PAYLOAD_TOO_LARGE for a body over the limit, before any AWS call', async () => {
      const tags = [{ Key: 'padding', Value: 'x'.repeat(MAX_BODY_BYTES) }];
      const response = await post({ EmailIdentity: 'mail.example.com', Tags: tags });

      expect(response.statusCode).toBe(413);
      expect(bodyOf(response).error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(sfn.calls()).toHaveLength(0);
      expect(await registryItem('mail.example.com')).toBeUndefined();
    });
  });

  describe('bodies it accepts', () => {
    it.each([
      ['lower-case header with charset', { 'content-type': 'application/json; charset=utf-8' }],
      ['a +json media type', { 'Content-Type': 'application/vnd.api+json' }],
    ])('accepts %s', async (_label, headers) => {
      const response = await post({ EmailIdentity: 'mail.example.com' }, headers);

      expect(response.statusCode).toBe(202);
    });

    it('reads a base64-encoded body', async () => {
      const event = postEvent('');
      event.body = Buffer.from(JSON.stringify({ EmailIdentity: 'mail.example.com' })).toString(
        'base64',
      );
      event.isBase64Encoded = true;

      const response = await handler(event, lambdaContext);

      expect(response.statusCode).toBe(202);
      expect(startedExecution().input).toEqual({ EmailIdentity: 'mail.example.com' });
    });
  });

  describe('AWS failures', () => {
    it('returns 429 THROTTLED when Step Functions throttles StartExecution, and leaves the identity free', async () => {
      sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException'));

      const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

      expect(response.statusCode).toBe(429);
      expect(bodyOf(response).error.code).toBe('THROTTLED');
      expect(await registryItem('mail.example.com')).toBeUndefined();
    });

    it('returns 429 THROTTLED when Step Functions throttles the look at a repeated run', async () => {
      await post({ EmailIdentity: 'mail.example.com' });
      sfn.on(DescribeExecutionCommand).rejects(sdkError('ThrottlingException'));

      const response = await post({ EmailIdentity: 'mail.example.com' });

      expect(response.statusCode).toBe(429);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    it('returns 429 THROTTLED, starting nothing and leaving the identity free, when Secrets Manager throttles', async () => {
      secrets.on(CreateSecretCommand).rejects(sdkError('ThrottlingException'));

      const response = await post(byodkimBody());

      expect(response.statusCode).toBe(429);
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(await registryItem('mail.example.com')).toBeUndefined();
    });

    it('returns 500 INTERNAL_ERROR without the service message when StartExecution fails, deleting the secret and freeing the identity', async () => {
      sfn.on(StartExecutionCommand).rejects(sdkError('InvalidExecutionInput'));

      const response = await post(byodkimBody());

      expect(response.statusCode).toBe(500);
      expect(bodyOf(response).error).toEqual({
        code: 'INTERNAL_ERROR',
        message: 'Internal error; the request may be retried',
      });
      expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: SECRET_ARN });
      expect(response.body).not.toContain(privateKey);
      expect(await registryItem('mail.example.com')).toBeUndefined();
    });
  });
});
