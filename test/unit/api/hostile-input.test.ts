import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The handlers read their configuration, and their DynamoDB client its endpoint, as they load.
const registry = await vi.hoisted(async () => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler as getIdentityStatus } from '#api/get-identity-status/handler.js';
import { handler as requestDkimChange } from '#api/request-dkim-change/handler.js';
import { handler as startVerification } from '#api/start-verification/handler.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';
import { bodyOf, getEvent, lambdaContext, postEvent, putDkimEvent } from './support.js';

afterAll(async () => {
  await registry.close();
});

/** The cases a fuzzing run found getting through, each answered as the API now answers it. */
describe('the API refuses input that would be bent', () => {
  const sfn = mockClient(SFNClient);
  const ses = mockClient(SESv2Client);
  const secrets = mockClient(SecretsManagerClient);
  const key = testKeys.rsa2048Pkcs1;
  // A window from the middle of the key: the modulus and private parts, never a shared header.
  const keyFragments = [key.slice(200, 216), key.slice(600, 616), key.slice(-40, -24)];

  beforeEach(() => {
    sfn.reset();
    ses.reset();
    secrets.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  });

  function expectNoKey(text: string) {
    for (const fragment of keyFragments) expect(text).not.toContain(fragment);
  }

  it.each([
    ['victim1.example.com/.tenant.example.org', /"\/" \(U\+002F\)/],
    ['ops@victim2.example.com?x=.tenant.example.org', /"\?" \(U\+003F\)/],
    ['a%2eb.example.com', /"%" \(U\+0025\)/],
    ['a\u200bb.tenant.example.org', /zero-width space \(U\+200B\)/],
  ])(
    'POST /identities refuses %j instead of rewriting it, and starts nothing',
    async (identity, message) => {
      const response = await startVerification(
        postEvent({ EmailIdentity: identity }),
        lambdaContext,
      );
      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.details).toContainEqual({
        field: 'EmailIdentity',
        message: expect.stringMatching(message),
      });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    },
  );

  it('GET /identities/a.example.com%2Fdkim (decoded by API Gateway) is refused, naming the "/"', async () => {
    const response = await getIdentityStatus(getEvent('a.example.com/dkim'), lambdaContext);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details).toEqual([
      { field: 'identity', message: expect.stringMatching(/"\/" \(U\+002F\) at character 14/) },
    ]);
    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
  });

  it('POST /identities refuses a 253-character domain before any AWS call', async () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(domain).toHaveLength(253);
    const response = await startVerification(postEvent({ EmailIdentity: domain }), lambdaContext);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details).toContainEqual({
      field: 'EmailIdentity',
      message: expect.stringMatching(/_domainkey.*would be 297 characters/),
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('POST /identities refuses a body that names a field twice', async () => {
    const body = '{"EmailIdentity":"tenant.example.org","EmailIdentity":"victim.example.com"}';
    const response = await startVerification(postEvent(body), lambdaContext);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details).toEqual([
      { field: 'EmailIdentity', message: expect.stringMatching(/more than once/) },
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('POST /identities accepts a body that starts with a UTF-8 byte order mark', async () => {
    const response = await startVerification(
      postEvent('\ufeff{"EmailIdentity":"mail.example.com"}'),
      lambdaContext,
    );
    expect(response.statusCode).toBe(202);
  });

  it('POST /identities answers 20,000 empty tags with a short list of problems', async () => {
    const body = { EmailIdentity: 'example.com', Tags: Array.from({ length: 20_000 }, () => ({})) };
    const response = await startVerification(postEvent(body), lambdaContext);
    expect(response.statusCode).toBe(400);
    expect(response.body.length).toBeLessThan(8_192);
    const details = bodyOf(response).error.details;
    expect(details).toHaveLength(26);
    expect(details[25].message).toMatch(/19,976 more problems/);
  });

  it('POST /identities does not echo a key sent as the domain of an address', async () => {
    const response = await startVerification(
      postEvent({ EmailIdentity: `x@${key}` }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(400);
    expectNoKey(response.body);
  });

  it.each([
    ['decoded by API Gateway', `x@${key}`],
    ['still percent-encoded', `x%40${key}`],
    ['with the key split into labels', `x@${key.match(/.{1,60}/g)?.join('.')}`],
  ])(
    'GET /identities/{identity} with a key as the domain of an address (%s) does not echo it',
    async (_label, identity) => {
      const response = await getIdentityStatus(getEvent(identity), lambdaContext);
      expect(response.statusCode).toBe(400);
      expectNoKey(response.body);
      expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
    },
  );

  it('PUT /identities/{identity}/dkim does not echo a key in the path or as a field name', async () => {
    const response = await requestDkimChange(
      putDkimEvent(`x@${key}`, { SigningAttributesOrigin: 'AWS_SES', [key]: true }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(400);
    expectNoKey(response.body);
  });
});
