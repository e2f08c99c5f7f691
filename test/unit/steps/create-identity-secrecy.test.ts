import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AlreadyExistsException,
  BadRequestException,
  CreateEmailIdentityCommand,
  type CreateEmailIdentityCommandInput,
  GetEmailIdentityCommand,
  PutEmailIdentityDkimSigningAttributesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '#steps/create-identity/handler.js';
import { startDnsServer } from '#test/support/dns-server.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

// Everything the deployed handler can print is in scope here: logs at every level, and metrics,
// which `npm test` otherwise keeps quiet. Set before the handler's module creates its logger.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dkim/example.com-AbCdEf';
const meta = { $metadata: { httpStatusCode: 400 } };
const context = {
  functionName: 'CreateIdentity',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:CreateIdentity',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/CreateIdentity',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const secretRequest = {
  EmailIdentity: 'example.com',
  Tags: [{ Key: 'tenant', Value: 'acme' }],
  DkimSigningAttributes: {
    DomainSigningSelector: 's1',
    DomainSigningPrivateKeySecretArn: SECRET_ARN,
  },
};
const generatedRequest = {
  EmailIdentity: 'example.com',
  DkimSigningAttributes: { DomainSigningSelector: 's1', GenerateDomainSigningKey: {} },
};

/** A stretch from the middle of a key: present wherever the key is, in any form that quotes it. */
function fragmentOf(key: string): string {
  const body = key.replace(/-----[^-]+-----|\s/g, '');
  return body.slice(body.length / 2, body.length / 2 + 40);
}

describe('CreateIdentity keeps the private key secret', () => {
  const ses = mockClient(SESv2Client);
  const secrets = mockClient(SecretsManagerClient);
  let written: string[] = [];

  beforeEach(() => {
    ses.reset();
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: testKeys.rsa2048Pkcs1 });
    secrets.on(DeleteSecretCommand).resolves({});
    written = [];
    // Everything the logger, the metrics and anything else print goes through these two streams.
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Runs the deployed handler (middy, logger, metrics); returns its result or its error. */
  async function invoke(event: unknown): Promise<{ result?: unknown; error?: Error }> {
    try {
      return { result: await handler(event, context) };
    } catch (error) {
      return { error: error as Error };
    }
  }

  function expectNowhere(key: string, outcome: { result?: unknown; error?: Error }) {
    const fragment = fragmentOf(key);
    expect(written.join('')).not.toContain(fragment);
    expect(JSON.stringify(outcome.result ?? null)).not.toContain(fragment);
    if (outcome.error) {
      expect(outcome.error.message).not.toContain(fragment);
      expect(outcome.error.stack ?? '').not.toContain(fragment);
      expect(JSON.stringify(outcome.error)).not.toContain(fragment);
    }
  }

  it('logs and returns no part of a supplied key when the identity is created', async () => {
    ses.on(CreateEmailIdentityCommand).resolves({
      DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'PENDING' },
    });

    const outcome = await invoke(secretRequest);

    expect(outcome.error).toBeUndefined();
    // The capture works: the step's own log line and its metric are in it.
    expect(written.join('')).toContain('Email identity created');
    expect(written.join('')).toContain('IdentityCreated');
    expectNowhere(testKeys.rsa2048Pkcs1, outcome);
  });

  it('logs and returns no part of a generated key', async () => {
    ses.on(CreateEmailIdentityCommand).resolves({
      DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'PENDING' },
    });

    const outcome = await invoke(generatedRequest);

    const input = ses.commandCalls(CreateEmailIdentityCommand)[0]?.args[0]
      .input as CreateEmailIdentityCommandInput;
    const generated = input.DkimSigningAttributes?.DomainSigningPrivateKey ?? '';
    expect(generated.length).toBeGreaterThan(1000);
    expect(written.join('')).toContain('Email identity created');
    expectNowhere(generated, outcome);
  });

  it('keeps the key out of the error even when SES quotes it back', async () => {
    ses.on(CreateEmailIdentityCommand).rejects(
      new BadRequestException({
        message: `Invalid DomainSigningPrivateKey ${testKeys.rsa2048Pkcs1}`,
        ...meta,
      }),
    );

    const outcome = await invoke(secretRequest);

    expect(outcome.error?.name).toBe('SesBadRequestError');
    expect(outcome.error?.message).toContain('[private key]');
    expectNowhere(testKeys.rsa2048Pkcs1, outcome);
  });

  it('logs no part of the key when adopting an identity and giving SES its key again', async () => {
    const dns = await startDnsServer({});
    vi.stubEnv('DNS_RESOLVERS', dns.address);
    vi.stubEnv('DNS_QUERY_AUTHORITATIVE', 'false');
    vi.stubEnv('AWS_ACCOUNT_ID', '123456789012');
    try {
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new AlreadyExistsException({ message: 'exists', ...meta }));
      ses.on(GetEmailIdentityCommand).resolves({
        DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'PENDING' },
        Tags: [{ Key: 'tenant', Value: 'other' }],
      });
      ses.on(PutEmailIdentityDkimSigningAttributesCommand).resolves({ DkimStatus: 'PENDING' });

      const outcome = await invoke(secretRequest);

      expect(outcome.result).toMatchObject({ adopted: true, restart: { method: 'KEY_RESENT' } });
      expect(written.join('')).toContain('already existed and matches the request');
      expectNowhere(testKeys.rsa2048Pkcs1, outcome);
    } finally {
      vi.unstubAllEnvs();
      await dns.close();
    }
  });

  it('quotes no part of the key in a conflict', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new AlreadyExistsException({ message: 'exists', ...meta }));
    ses.on(GetEmailIdentityCommand).resolves({
      DkimAttributes: { SigningAttributesOrigin: 'AWS_SES', Tokens: ['t1', 't2', 't3'] },
    });

    const outcome = await invoke(secretRequest);

    expect(outcome.error?.name).toBe('ConflictError');
    expectNowhere(testKeys.rsa2048Pkcs1, outcome);
  });

  it.each([
    ['in the workflow input', testKeys.rsa2048Pkcs1],
    ['of the wrong size, in the workflow input', testKeys.rsa512Pkcs1],
  ])('quotes no part of a key sent %s when rejecting it', async (_label, key) => {
    const outcome = await invoke({
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
    });

    expect(outcome.error?.name).toBe('ValidationError');
    expectNowhere(key, outcome);
  });

  it('quotes no part of a secret key that SES would not accept', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: testKeys.rsa2304Pkcs1 });

    const outcome = await invoke(secretRequest);

    expect(outcome.error?.name).toBe('ValidationError');
    expectNowhere(testKeys.rsa2304Pkcs1, outcome);
  });
});
