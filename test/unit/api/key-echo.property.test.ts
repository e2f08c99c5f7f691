import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
  process.env.REGISTRY_TABLE_NAME = 'IdentityRegistryTable';
  // Everything a handler can print is in scope: logs at every level (npm test keeps them quiet).
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

import { handler as getIdentityStatus } from '#api/get-identity-status/handler.js';
import { handler as requestDkimChange } from '#api/request-dkim-change/handler.js';
import { handler as startVerification } from '#api/start-verification/handler.js';
import { parseDkimChangeRequest, parseIdentityRequest } from '#shared/request/index.js';
import { describeFailure } from '#steps/describe-failure/describe-failure.js';
import { holdsKey } from '#test/support/key-material.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';
import { getEvent, lambdaContext, postEvent, putDkimEvent } from './support.js';

/**
 * No response, log line, AWS call (the execution input and the registry's item above all) or
 * failure event carries a private key that came in with a request, wherever the caller put it.
 * Seeded and bounded by a number of runs; a failure prints the seed and the shrunk request. The
 * registry is a mock here, unlike in the route tests: every write to it is an AWS call to
 * search for the key, and 600 requests against a real table would make the run slow.
 */
const RUNS = { numRuns: 300 } as const;

const KEYS = [testKeys.rsa1024Pkcs1, testKeys.rsa2048Pkcs8, testKeys.rsa2048Pem];

/** Every way a key can reach a string field by mistake or by intent. */
const keyShapes = (key: string) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(key) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `x@${key}`,
        `${key}.example.com`,
        `x@${key.replace(/[+/=\s-]/g, '')}`,
        key.replace(/\n/g, ''),
        key.slice(0, 400),
        key.match(/.{1,60}/g)?.join('.') ?? key,
      ),
    },
  );

type Placement = (
  shape: string,
  key: string,
) => { body?: unknown; headers?: Record<string, string>; raw?: string };

// Where, in a POST /identities body or its headers, the key goes.
const PLACEMENTS: Record<string, Placement> = {
  identity: (shape) => ({ body: { EmailIdentity: shape } }),
  tagKey: (shape) => ({
    body: { EmailIdentity: 'example.com', Tags: [{ Key: shape, Value: 'v' }] },
  }),
  tagValue: (shape) => ({
    body: { EmailIdentity: 'example.com', Tags: [{ Key: 'k', Value: shape }] },
  }),
  unknownName: (shape) => ({ body: { EmailIdentity: 'example.com', [shape]: 1 } }),
  unknownValue: (shape) => ({ body: { EmailIdentity: 'example.com', Extra: shape } }),
  nestedName: (shape) => ({ body: { EmailIdentity: 'example.com', Dns: { [shape]: 'x' } } }),
  selector: (shape) => ({
    body: {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningSelector: shape, GenerateDomainSigningKey: {} },
    },
  }),
  inlineKey: (shape) => ({
    body: {
      EmailIdentity: 'mail.example.com',
      DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: shape },
    },
  }),
  inlineKeyBroken: (shape) => ({
    body: {
      EmailIdentity: 'jane@example.com',
      DkimSigningAttributes: { DomainSigningSelector: '-', DomainSigningPrivateKey: shape },
    },
  }),
  secretArn: (shape) => ({
    body: {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: shape,
      },
    },
  }),
  configurationSet: (shape) => ({
    body: { EmailIdentity: 'example.com', ConfigurationSetName: shape },
  }),
  hostedZone: (shape) => ({ body: { EmailIdentity: 'example.com', Dns: { HostedZoneId: shape } } }),
  provider: (shape) => ({ body: { EmailIdentity: 'example.com', Dns: { Provider: shape } } }),
  keyLength: (shape) => ({
    body: { EmailIdentity: 'example.com', DkimSigningAttributes: { NextSigningKeyLength: shape } },
  }),
  idempotencyKey: (shape) => ({
    body: { EmailIdentity: 'example.com' },
    headers: { 'content-type': 'application/json', 'idempotency-key': shape },
  }),
  contentType: (shape) => ({
    body: { EmailIdentity: 'example.com' },
    headers: { 'content-type': shape },
  }),
  unquoted: (shape) => ({ raw: `{"EmailIdentity": "example.com", "Tags": ${shape}}` }),
  duplicated: (shape) => ({
    raw: `{"EmailIdentity": "a.example.com", ${JSON.stringify(shape)}: 1, ${JSON.stringify(shape)}: 2}`,
  }),
};

describe('no response, log line, AWS call or event carries a key from the input', () => {
  const sfn = mockClient(SFNClient);
  const ses = mockClient(SESv2Client);
  const secrets = mockClient(SecretsManagerClient);
  const dynamodb = mockClient(DynamoDBDocumentClient);
  let written: string[] = [];

  beforeEach(() => {
    written = [];
    // Powertools writes its JSON lines to stdout and stderr through its own Console.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      });
    }
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  function resetClients(failure: 'none' | 'internal' | 'throttled') {
    sfn.reset();
    ses.reset();
    secrets.reset();
    // The stack manages no identity yet: no item to read, every claim succeeds.
    dynamodb.reset();
    dynamodb.onAnyCommand().resolves({});
    if (failure === 'internal') {
      sfn.on(StartExecutionCommand).rejects(new Error('boom'));
    } else if (failure === 'throttled') {
      sfn.on(StartExecutionCommand).rejects(
        Object.assign(new Error('slow'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    } else {
      sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:run', startDate: new Date(0) });
    }
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: { SigningAttributesOrigin: 'AWS_SES', Status: 'SUCCESS', Tokens: [] },
    });
    secrets
      .on(CreateSecretCommand)
      .resolves({ ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf' });
    secrets.on(DeleteSecretCommand).resolves({});
  }

  /** Everything the handler let out, except the one place a key belongs: the secret's value. */
  function everythingOut(response: APIGatewayProxyResult): string {
    const calls = [...sfn.calls(), ...ses.calls(), ...secrets.calls(), ...dynamodb.calls()];
    const inputs = calls.map((call) => {
      const input = { ...(call.args[0].input as Record<string, unknown>) };
      delete input.SecretString;
      return JSON.stringify(input);
    });
    return [JSON.stringify(response), ...written, ...inputs].join('\n');
  }

  const request = fc.record({
    key: fc.constantFrom(...KEYS),
    // Half the time the key goes where it belongs, so that accepted requests are fuzzed too.
    placement: fc.oneof(fc.constantFrom(...Object.keys(PLACEMENTS)), fc.constant('inlineKey')),
    failure: fc.constantFrom('none', 'none', 'internal', 'throttled'),
    extra: fc.constantFrom({}, { Tags: [{ Key: 'team', Value: 'a' }] }, { Unknown: true }),
  });

  it('POST /identities', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        request.chain((r) => keyShapes(r.key).map((shape) => ({ ...r, shape }))),
        async ({ key, placement, failure, extra, shape }) => {
          resetClients(failure as 'none');
          written = [];
          const put = (PLACEMENTS[placement] as Placement)(shape, key);
          const body = put.raw ?? { ...(extra as object), ...(put.body as object) };
          const event = postEvent(body, put.headers ?? { 'content-type': 'application/json' });
          const response = await startVerification(event, lambdaContext);
          statuses.add(response.statusCode);
          expect(holdsKey(everythingOut(response), key)).toBe(false);
        },
      ),
      { ...RUNS, seed: 1610 },
    );
    // The runs reached acceptance, every refusal and the logged failures.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([202, 400, 415, 429, 500]));
  });

  it('catches a key in what it watches (the check itself works)', async () => {
    resetClients('internal');
    const key = KEYS[0] as string;
    const response = await startVerification(
      postEvent({ EmailIdentity: 'example.com' }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(500);
    expect(written.join('')).toMatch(/Request failed/);
    expect(holdsKey(`${everythingOut(response)} ${key.slice(100, 120)}`, key)).toBe(true);
  });

  it('GET /identities/{identity} and PUT /identities/{identity}/dkim', async () => {
    await fc.assert(
      fc.asyncProperty(
        request.chain((r) => keyShapes(r.key).map((shape) => ({ ...r, shape }))),
        fc.constantFrom('get', 'put-path', 'put-selector', 'put-key', 'put-name', 'put-arn'),
        async ({ key, shape }, route) => {
          resetClients('none');
          written = [];
          const encoded = encodeURIComponent(shape);
          const response =
            route === 'get'
              ? await getIdentityStatus(getEvent(shape.length % 2 ? shape : encoded), lambdaContext)
              : await requestDkimChange(
                  route === 'put-path'
                    ? putDkimEvent(shape, { SigningAttributesOrigin: 'AWS_SES' })
                    : putDkimEvent('mail.example.com', {
                        SigningAttributesOrigin: 'EXTERNAL',
                        SigningAttributes:
                          route === 'put-selector'
                            ? { DomainSigningSelector: shape, GenerateDomainSigningKey: {} }
                            : route === 'put-key'
                              ? { DomainSigningSelector: 's2', DomainSigningPrivateKey: shape }
                              : route === 'put-arn'
                                ? { DomainSigningPrivateKeySecretArn: shape }
                                : { [shape]: {} },
                      }),
                  lambdaContext,
                );
          expect(holdsKey(everythingOut(response), key)).toBe(false);
        },
      ),
      { ...RUNS, seed: 1611 },
    );
  });

  it('the failure event of an onboarding request that carries a key', () => {
    fc.assert(
      fc.property(
        request.chain((r) => keyShapes(r.key).map((shape) => ({ ...r, shape }))),
        fc.boolean(),
        ({ key, placement, shape, extra }, change) => {
          const put = (PLACEMENTS[placement] as Placement)(shape, key);
          if (put.body === undefined) return;
          const detail = change
            ? { ...(put.body as object), SigningAttributesOrigin: 'AWS_SES' }
            : { ...(extra as object), ...(put.body as object) };
          // What CreateIdentity (or ReadDkimSigning) does with the event's detail, and what
          // Step Functions then records as the error's cause.
          let cause: string | undefined;
          try {
            if (change) parseDkimChangeRequest(detail, { keyDelivery: 'secret' });
            else parseIdentityRequest(detail, { keyDelivery: 'secret' });
          } catch (error) {
            cause = JSON.stringify({
              errorType: 'ValidationError',
              errorMessage: (error as Error).message,
            });
          }
          if (cause === undefined) return;
          const event = describeFailure({
            request: detail,
            error: { Error: 'ValidationError', Cause: cause },
          });
          expect(holdsKey(JSON.stringify(event), key)).toBe(false);
        },
      ),
      { ...RUNS, seed: 1612 },
    );
  });
});
