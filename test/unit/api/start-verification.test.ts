import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
const KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
vi.hoisted(() => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
});

import { handler } from '#api/start-verification/handler.js';
import { generateDkimKeyPair } from '#shared/dkim/keys.js';
import { MAX_BODY_BYTES } from '#shared/http/body.js';
import { executionPrefixFor } from '#shared/runs/execution-names.js';
import { apiEvent, bodyOf, lambdaContext, postEvent, sdkError } from './support.js';

const STARTED_AT = new Date('2026-01-15T09:30:01.000Z');
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${KEY_SECRET_PREFIX}mail.example.com-0123456789ab-AbCdEf`;

function executionArn(name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`;
}

function notFound() {
  return new ExecutionDoesNotExist({ message: 'Execution does not exist', $metadata: {} });
}

/** The name and parsed input of the one StartExecution call. */
function startedExecution(sfn: ReturnType<typeof mockClient>) {
  const calls = sfn.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input;
  return {
    name: input?.name ?? '',
    rawInput: input?.input ?? '',
    input: JSON.parse(input?.input ?? '{}'),
  };
}

describe('StartVerification (POST /identities)', () => {
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  let privateKey: string;

  beforeAll(async () => {
    privateKey = (await generateDkimKeyPair('RSA_1024_BIT')).privateKey;
  });

  beforeEach(() => {
    sfn.reset();
    secrets.reset();
    sfn.on(DescribeExecutionCommand).rejects(notFound());
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArn(input.name),
      startDate: STARTED_AT,
    }));
    secrets.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'ignored' });
    secrets.on(DeleteSecretCommand).resolves({});
  });

  function byodkimBody(identity = 'mail.example.com') {
    return {
      EmailIdentity: identity,
      DkimSigningAttributes: {
        DomainSigningSelector: 'sel2026',
        DomainSigningPrivateKey: privateKey,
      },
    };
  }

  it('starts an execution for an Easy DKIM request and answers 202 PENDING with its id', async () => {
    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(response.headers?.['Content-Type']).toBe('application/json');
    const { name, input } = startedExecution(sfn);
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
        created_at: STARTED_AT.toISOString(),
        identity: 'mail.example.com',
        identity_type: 'DOMAIN',
        status: 'PENDING',
        execution_arn: executionArn(name),
        repeated: false,
      },
    });
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });

  it('names the execution within 80 characters of [0-9A-Za-z_-], starting with the identity', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    await handler(postEvent({ EmailIdentity: long }), lambdaContext);

    const { name } = startedExecution(sfn);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[0-9A-Za-z_-]+$/);
    expect(name.startsWith(executionPrefixFor(long))).toBe(true);
    expect(name.startsWith('aaaa')).toBe(true);
  });

  it('names a new run for the same body sent with a new Idempotency-Key, to retry a finished one', async () => {
    const json = { 'content-type': 'application/json' };
    await handler(postEvent({ EmailIdentity: 'mail.example.com' }, json), lambdaContext);
    await handler(
      postEvent({ EmailIdentity: 'mail.example.com' }, { ...json, 'Idempotency-Key': 'retry-1' }),
      lambdaContext,
    );
    await handler(
      postEvent({ EmailIdentity: 'mail.example.com' }, { ...json, 'idempotency-key': 'retry-1' }),
      lambdaContext,
    );

    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names).toHaveLength(3);
    expect(names[1]).not.toBe(names[0]);
    expect(names[2]).toBe(names[1]);
  });

  it('rejects an Idempotency-Key that is not printable ASCII, naming the header', async () => {
    const response = await handler(
      postEvent(
        { EmailIdentity: 'mail.example.com' },
        { 'content-type': 'application/json', 'idempotency-key': 'x'.repeat(256) },
      ),
      lambdaContext,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body as string).error.details).toEqual([
      { field: 'Idempotency-Key', message: expect.stringContaining('printable ASCII') },
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('normalises the identity before naming, so Mail.Example.COM. and mail.example.com are one run', async () => {
    await handler(postEvent({ EmailIdentity: 'Mail.Example.COM.' }), lambdaContext);
    await handler(postEvent({ EmailIdentity: 'mail.example.com' }), lambdaContext);

    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names).toHaveLength(2);
    expect(names[0]).toBe(names[1]);
  });

  it('stores a supplied private key in a prefixed, tagged secret and passes only its ARN', async () => {
    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(secrets).toHaveReceivedCommandWith(CreateSecretCommand, {
      SecretString: privateKey,
      Tags: [{ Key: 'ses-identity-verifier:identity', Value: 'mail.example.com' }],
    });
    const secretName = secrets.commandCalls(CreateSecretCommand)[0]?.args[0].input.Name ?? '';
    expect(secretName).toMatch(
      /^ses-identity-verifier\/dkim-private-keys\/mail\.example\.com-[0-9a-f]{12}$/,
    );

    const { rawInput, input, name } = startedExecution(sfn);
    expect(input.DkimSigningAttributes).toEqual({
      DomainSigningSelector: 'sel2026',
      DomainSigningPrivateKeySecretArn: SECRET_ARN,
    });
    expect(rawInput).not.toContain(privateKey);
    expect(name).not.toContain(privateKey.slice(0, 16));
    expect(response.body).not.toContain(privateKey);
    expect(secrets).not.toHaveReceivedCommand(DeleteSecretCommand);
  });

  it('gives a repeated key request the same execution name although each attempt has its own secret', async () => {
    secrets
      .on(CreateSecretCommand)
      .resolvesOnce({ ARN: `${SECRET_ARN}1` })
      .resolvesOnce({ ARN: `${SECRET_ARN}2` });
    await handler(postEvent(byodkimBody()), lambdaContext);
    await handler(postEvent(byodkimBody()), lambdaContext);

    const starts = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(starts).toHaveLength(2);
    expect(starts[0]?.name).toBe(starts[1]?.name);
    expect(starts[0]?.input).not.toBe(starts[1]?.input);
  });

  it('names a request with another key differently', async () => {
    const otherKey = (await generateDkimKeyPair('RSA_1024_BIT')).privateKey;
    await handler(postEvent(byodkimBody()), lambdaContext);
    await handler(
      postEvent({
        ...byodkimBody(),
        DkimSigningAttributes: {
          DomainSigningSelector: 'sel2026',
          DomainSigningPrivateKey: otherKey,
        },
      }),
      lambdaContext,
    );

    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names[0]).not.toBe(names[1]);
  });

  it('answers an identical repeat with the existing run and starts nothing, creates no secret', async () => {
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => ({
      executionArn: input.executionArn,
      name: input.executionArn.split(':').at(-1),
      status: 'RUNNING',
      startDate: STARTED_AT,
    }));

    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(202);
    const data = bodyOf(response).data;
    expect(data).toMatchObject({
      status: 'PENDING',
      repeated: true,
      created_at: STARTED_AT.toISOString(),
    });
    expect(data.execution_arn).toBe(executionArn(data.id));
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    expect(response.body).not.toContain(privateKey);
  });

  it.each([
    ['SUCCEEDED', undefined, 'VERIFIED'],
    ['FAILED', 'TIMED_OUT', 'TIMED_OUT'],
    ['FAILED', 'DKIM_FAILED', 'FAILED'],
    ['ABORTED', undefined, 'FAILED'],
  ])('reports a repeat of a %s (%s) run as %s', async (status, error, expected) => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: executionArn('x'),
      name: 'x',
      status: status as 'FAILED',
      error,
      startDate: STARTED_AT,
    });

    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    expect(bodyOf(response).data).toMatchObject({ status: expected, repeated: true });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('deletes its own secret and answers with the winner when an identical request started first', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejectsOnce(notFound())
      .resolves({
        executionArn: executionArn('winner'),
        name: 'winner',
        status: 'RUNNING',
        startDate: STARTED_AT,
      });
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution already exists', $metadata: {} }));

    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).data).toMatchObject({ id: 'winner', repeated: true });
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, {
      SecretId: SECRET_ARN,
      ForceDeleteWithoutRecovery: true,
    });
    expect(startedExecution(sfn).rawInput).not.toContain(privateKey);
  });

  it('returns 409 CONFLICT when a different request for the identity is still running', async () => {
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({
        executions: [
          {
            name: `${executionPrefixFor('other.example.com')}0000000000000000`,
            executionArn: executionArn('a'),
            stateMachineArn: STATE_MACHINE_ARN,
            status: 'RUNNING',
            startDate: STARTED_AT,
          },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        executions: [
          {
            name: `${executionPrefixFor('mail.example.com')}ffffffffffffffff`,
            executionArn: executionArn('b'),
            stateMachineArn: STATE_MACHINE_ARN,
            status: 'RUNNING',
            startDate: STARTED_AT,
          },
        ],
      });

    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(409);
    expect(bodyOf(response).error.code).toBe('CONFLICT');
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      statusFilter: 'RUNNING',
      nextToken: 'page-2',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
    expect(response.body).not.toContain(privateKey);
  });

  it('starts a run when only other identities have runs going', async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: `${executionPrefixFor('mail.example.co')}0000000000000000`,
          executionArn: executionArn('a'),
          stateMachineArn: STATE_MACHINE_ARN,
          status: 'RUNNING',
          startDate: STARTED_AT,
        },
      ],
    });

    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(sfn).toHaveReceivedCommand(StartExecutionCommand);
  });

  it('returns 400 VALIDATION_ERROR listing every problem with its field path', async () => {
    const response = await handler(apiEvent('api-start-verification-invalid.json'), lambdaContext);

    expect(response.statusCode).toBe(400);
    const { error } = bodyOf(response);
    expect(error.code).toBe('VALIDATION_ERROR');
    const fields = error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'EmailIdentity',
        'Tags[0].Key',
        'DkimSigningAttributes.NextSigningKeyLength',
      ]),
    );
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('returns 400 VALIDATION_ERROR for malformed JSON without quoting the body', async () => {
    const body = `{"EmailIdentity": "mail.example.com", "DkimSigningAttributes": {"DomainSigningPrivateKey": ${privateKey}}}`;
    const response = await handler(postEvent(body), lambdaContext);

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

  it('does not quote a private key in validation details', async () => {
    const response = await handler(
      postEvent({
        EmailIdentity: 'user@example.com',
        DkimSigningAttributes: { DomainSigningPrivateKey: privateKey, DomainSigningSelector: 's1' },
      }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain(privateKey.slice(0, 20));
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });

  it.each([
    ['no Content-Type', {}],
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['form encoding', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('returns 415 UNSUPPORTED_MEDIA_TYPE for %s', async (_label, headers) => {
    const response = await handler(
      postEvent({ EmailIdentity: 'mail.example.com' }, headers),
      lambdaContext,
    );

    expect(response.statusCode).toBe(415);
    expect(bodyOf(response)).toMatchObject({
      success: false,
      error: { code: 'UNSUPPORTED_MEDIA_TYPE' },
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it.each([
    ['lower-case header with charset', { 'content-type': 'application/json; charset=utf-8' }],
    ['a +json media type', { 'Content-Type': 'application/vnd.api+json' }],
  ])('accepts %s', async (_label, headers) => {
    const response = await handler(
      postEvent({ EmailIdentity: 'mail.example.com' }, headers),
      lambdaContext,
    );
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
    expect(startedExecution(sfn).input).toEqual({ EmailIdentity: 'mail.example.com' });
  });

  it('returns 413 PAYLOAD_TOO_LARGE for a body over the limit, before any AWS call', async () => {
    const tags = [{ Key: 'padding', Value: 'x'.repeat(MAX_BODY_BYTES) }];
    const response = await handler(
      postEvent({ EmailIdentity: 'mail.example.com', Tags: tags }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(413);
    expect(bodyOf(response).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(sfn.calls()).toHaveLength(0);
  });

  it.each([
    [
      'StartExecution',
      () => sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException')),
    ],
    [
      'ListExecutions',
      () => sfn.on(ListExecutionsCommand).rejects(sdkError('ThrottlingException')),
    ],
    [
      'DescribeExecution',
      () => sfn.on(DescribeExecutionCommand).rejects(sdkError('ThrottlingException')),
    ],
  ])('returns 429 THROTTLED when Step Functions throttles %s', async (_label, throttle) => {
    throttle();

    const response = await handler(apiEvent('api-start-verification.json'), lambdaContext);

    expect(response.statusCode).toBe(429);
    expect(bodyOf(response).error.code).toBe('THROTTLED');
  });

  it('returns 429 THROTTLED and keeps no secret when Secrets Manager throttles', async () => {
    secrets.on(CreateSecretCommand).rejects(sdkError('ThrottlingException'));

    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(429);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('returns 500 INTERNAL_ERROR without the service message, and deletes the secret, when StartExecution fails', async () => {
    sfn.on(StartExecutionCommand).rejects(sdkError('InvalidExecutionInput'));

    const response = await handler(postEvent(byodkimBody()), lambdaContext);

    expect(response.statusCode).toBe(500);
    expect(bodyOf(response).error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'Internal error; the request may be retried',
    });
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: SECRET_ARN });
    expect(response.body).not.toContain(privateKey);
  });
});
