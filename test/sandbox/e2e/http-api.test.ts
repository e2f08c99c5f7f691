import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiEvent } from '#sandbox/api/server.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { getJson, postIdentity, terminalEventOf } from './harness.js';

// The sandbox's HTTP API as API Gateway's HTTP API: routing, path decoding, the event the
// handlers get, and a client that hangs up.
let stack: SandboxStack;

beforeAll(async () => {
  // About the HTTP API, not SES's rate (ses-rate.test.ts is): the rate limit is off, so a GET
  // never meets a 429 because a run read the same identity at the same virtual instant.
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

async function call(method: string, path: string, payload?: unknown) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(payload !== undefined && { body: JSON.stringify(payload) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
  const body: any = await response.json();
  return { status: response.status, headers: response.headers, body };
}

describe('the sandbox HTTP API routes as API Gateway does', () => {
  it.each([
    ['GET', '/identities/%'],
    ['PUT', '/identities/%E0%A4%A/dkim'],
  ])('answers 400, not 500, to %s %s whose percent-encoding is malformed', async (method, path) => {
    const response = await call(method, path, method === 'PUT' ? {} : undefined);

    expect(response).toMatchObject({ status: 400, body: { message: 'Bad Request' } });
  });

  it.each([
    ['PUT', '/identities/mail.example.com', 'DELETE, GET'],
    ['POST', '/identities/mail.example.com/dkim', 'PUT'],
    ['DELETE', '/identities', 'POST, GET'],
  ])('answers 405 to %s %s, allowing %s', async (method, path, allowed) => {
    const response = await call(method, path, {});

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allowed);
  });

  it('answers 404 to a path no route knows', async () => {
    const response = await call('GET', '/nowhere');

    expect(response).toMatchObject({ status: 404, body: { message: 'Not Found' } });
  });

  it('decodes the path once: %2540 reaches the handler as a literal %40, not an @', async () => {
    const once = await call('GET', '/identities/ops%2540example.com');
    const address = await call('GET', '/identities/ops%40example.com');

    expect(once.status).toBe(400);
    expect(once.body.error.code).toBe('VALIDATION_ERROR');
    expect(address.status).toBe(404);
    expect(address.body.error.code).toBe('NOT_FOUND');
  });
});

describe('the event the API handlers get', () => {
  it('is the HTTP API payload format 2.0, with the path and its parameters decoded', () => {
    const event = httpApiEvent(
      {
        method: 'PUT',
        url: new URL('http://127.0.0.1:3000/identities/ops%40example.com/dkim?a=1&a=2'),
        path: '/identities/ops@example.com/dkim',
        segments: ['identities', 'ops@example.com', 'dkim'],
        headers: { 'content-type': 'application/json', host: '127.0.0.1:3000', cookie: 'a=b; c=d' },
        body: '{}',
      },
      'PUT /identities/{identity}/dkim',
      { identity: 'ops@example.com' },
      new Date('2026-11-23T10:00:00Z'),
    );

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PUT /identities/{identity}/dkim',
      rawPath: '/identities/ops@example.com/dkim',
      rawQueryString: 'a=1&a=2',
      cookies: ['a=b', 'c=d'],
      queryStringParameters: { a: '1,2' },
      pathParameters: { identity: 'ops@example.com' },
      body: '{}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'PUT', path: '/identities/ops@example.com/dkim' },
        routeKey: 'PUT /identities/{identity}/dkim',
        stage: '$default',
        time: '23/Nov/2026:10:00:00 +0000',
        timeEpoch: Date.parse('2026-11-23T10:00:00Z'),
      },
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event).not.toHaveProperty('httpMethod');
    expect(event).not.toHaveProperty('resource');
  });
});

describe('a client that hangs up before its reply', () => {
  it('does not freeze virtual time for the runs after it', async () => {
    // Hang up half way through the body: the server learns of it before it has a reply.
    await new Promise<void>((resolve) => {
      const body = JSON.stringify({ EmailIdentity: 'hangup.example.com' });
      const client = httpRequest(`${stack.apiUrl}/identities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      client.on('error', () => resolve());
      client.on('close', () => resolve());
      client.write(body.slice(0, 10), () => client.destroy());
    });

    const after = await postIdentity(stack, { EmailIdentity: 'after-hangup.example.com' });
    const terminal = await terminalEventOf(stack, 'after-hangup.example.com');

    expect(after.status).toBe(202);
    expect(terminal['detail-type']).toBe('Email Identity Verified');
    const clock = await getJson<{ elapsed_seconds: number }>(`${stack.apiUrl}/sandbox/clock`);
    expect(clock.body.elapsed_seconds).toBeGreaterThan(60);
  }, 30_000);
});

describe('GET /sandbox/metrics', () => {
  it('counts the calls of every emulated service operation: ok, throttled, failed', async () => {
    await postIdentity(stack, { EmailIdentity: 'counted.example.com' });
    await terminalEventOf(stack, 'counted.example.com');
    // A call SES fails: an identity it does not know.
    await call('GET', '/identities/unknown.example.com');

    const { status, body } = await getJson<{
      calls: Record<string, { ok: number; throttled: number; failed: number }>;
    }>(`${stack.apiUrl}/sandbox/metrics`);

    expect(status).toBe(200);
    expect(body.calls['sesv2:CreateEmailIdentity']?.ok).toBeGreaterThanOrEqual(1);
    expect(body.calls['sesv2:GetEmailIdentity']?.failed).toBeGreaterThanOrEqual(1);
    expect(body.calls['route53:ChangeResourceRecordSets']?.ok).toBeGreaterThanOrEqual(1);
    expect(body.calls['events:PutEvents']?.ok).toBeGreaterThanOrEqual(2);
    expect(body.calls['stepfunctions:StartExecution']?.ok).toBeGreaterThanOrEqual(1);
    // Every operation is listed, called or not.
    expect(body.calls['secretsmanager:CreateSecret']).toEqual({ ok: 0, throttled: 0, failed: 0 });
    for (const counts of Object.values(body.calls)) {
      expect(Object.keys(counts).sort()).toEqual(['failed', 'ok', 'throttled']);
    }
  }, 30_000);
});
