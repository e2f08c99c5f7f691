import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiError,
  type FakeApi,
  ok,
  type ReceivedRequest,
  type Reply,
  runCapture,
  startFakeApi,
} from './cli-harness.js';

// Every command's request and its answer, against a fake HTTP API that records what it was
// sent: the method, path, query, headers and body on the wire; the exit code and the lines a
// person or a script reads for each kind of answer.

let api: FakeApi | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await api?.close();
  api = undefined;
});

async function serve(reply: (request: ReceivedRequest, index: number) => Reply | Promise<Reply>) {
  api = await startFakeApi(reply);
  return api;
}

const sandboxEnv = (fake: FakeApi) => ({ SANDBOX_API_PORT: String(fake.port) });

const STARTED = {
  id: 'mail_example_com-3f0e4bd1-9c1b2a0d4e5f6a7b',
  created_at: '2026-11-23T10:00:00.000Z',
  identity: 'mail.example.com',
  identity_type: 'DOMAIN',
  status: 'PENDING',
  execution_arn:
    'arn:aws:states:us-east-1:000000000000:execution:VerifyEmailIdentity:mail_example_com-3f0e4bd1-9c1b2a0d4e5f6a7b',
  repeated: false,
};

const TOKEN = 'abcdefghijklmnopqrstuvwxyz234567';
const CNAME = {
  type: 'CNAME',
  name: `${TOKEN}._domainkey.mail.example.com`,
  value: `${TOKEN}.dkim.amazonses.com`,
  ttl: 1800,
};

function identityView(status: string, overrides: Record<string, unknown> = {}) {
  return {
    identity: 'mail.example.com',
    identity_type: 'DOMAIN',
    status,
    dkim_status: status === 'VERIFIED' ? 'SUCCESS' : 'PENDING',
    ses: null,
    records: [CNAME],
    zone_file: [],
    probe: [],
    latest_run: {
      id: STARTED.id,
      execution_arn: STARTED.execution_arn,
      operation: 'CreateIdentity',
      status: status === 'DEGRADED' ? 'VERIFIED' : status,
      started_at: '2026-11-23T10:00:00.000Z',
      ended_at: status === 'PENDING' ? null : '2026-11-23T10:05:00.000Z',
      console_url: 'https://us-east-1.console.aws.amazon.com/states/home',
      reason: null,
    },
    managed: true,
    updated_at: '2026-11-23T10:05:00.000Z',
    checked_at: null,
    ...overrides,
  };
}

describe('start', () => {
  it("POSTs SES's request as JSON with the Idempotency-Key, prints the run and exits 0", async () => {
    const fake = await serve(() => ok(STARTED, 202));

    const run = await runCapture(
      ['start', 'mail.example.com', '--tag', 'tenant=acme', '--idempotency-key', 'retry-1'],
      { env: sandboxEnv(fake) },
    );

    expect(run.code).toBe(0);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests as [ReceivedRequest];
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/identities');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['idempotency-key']).toBe('retry-1');
    expect(JSON.parse(request.body)).toEqual({
      EmailIdentity: 'mail.example.com',
      Tags: [{ Key: 'tenant', Value: 'acme' }],
    });
    expect(run.stdout.split('\n')).toEqual([
      'Started the verification of mail.example.com (DOMAIN).',
      `  run        ${STARTED.id}  PENDING`,
      `  execution  ${STARTED.execution_arn}`,
      '',
    ]);
    expect(run.stderr).toBe('');
  });

  it("prints the API's data as it is with --json", async () => {
    const fake = await serve(() => ok({ ...STARTED, repeated: true }, 202));

    const run = await runCapture(['start', 'mail.example.com', '--json'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ...STARTED, repeated: true });
  });

  it.each([
    ['VERIFIED', 0],
    ['FAILED', 1],
    ['TIMED_OUT', 1],
  ])(
    "--wait polls until the run ends %s and exits %i, waiting out a 429's Retry-After",
    async (end, code) => {
      const fake = await serve((request, index) => {
        if (request.method === 'POST') return ok(STARTED, 202);
        if (index === 2)
          return apiError(429, 'THROTTLED', 'SES throttled the look', undefined, {
            'retry-after': '7',
          });
        return ok(identityView(index < 4 ? 'PENDING' : end));
      });

      const run = await runCapture(['start', 'mail.example.com', '--wait', '--interval', '0.5'], {
        env: sandboxEnv(fake),
      });

      expect(run.code).toBe(code);
      expect(fake.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
        'POST /identities',
        'GET /identities/mail.example.com',
        'GET /identities/mail.example.com',
        'GET /identities/mail.example.com',
        'GET /identities/mail.example.com',
      ]);
      expect(run.sleeps).toEqual([500, 7000, 500]);
      expect(run.stderr.split('\n')).toEqual([
        `Waiting for run ${STARTED.id} to end (Ctrl-C stops waiting; the run goes on)…`,
        '  PENDING, DKIM PENDING',
        `  ${end}, DKIM ${end === 'VERIFIED' ? 'SUCCESS' : 'PENDING'}`,
        '',
      ]);
      expect(run.stdout).toMatch(new RegExp(`^mail\\.example\\.com {2}DOMAIN {2}${end}`, 'm'));
    },
  );

  it('--wait ignores an older run of the identity until the started one shows', async () => {
    const older = identityView('FAILED', {
      latest_run: { ...identityView('FAILED').latest_run, id: 'mail_example_com-older' },
    });
    const fake = await serve((request, index) =>
      request.method === 'POST'
        ? ok(STARTED, 202)
        : ok(index === 1 ? older : identityView('VERIFIED')),
    );

    const run = await runCapture(['start', 'mail.example.com', '--wait'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(0);
    expect(fake.requests).toHaveLength(3);
  });
});

describe('an API that says no', () => {
  it('400: exits 2 and lists every field problem on stderr', async () => {
    const fake = await serve(() =>
      apiError(400, 'VALIDATION_ERROR', 'The request breaks 2 rules', [
        { field: 'Tags[0].Key', message: 'must not begin with aws:' },
        { field: 'EmailIdentity', message: 'has an empty label at position 4' },
      ]),
    );

    const run = await runCapture(['start', 'bad..example.com', '--tag', 'aws:x=1'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      `start on the sandbox at ${fake.url}: 400 VALIDATION_ERROR: The request breaks 2 rules`,
      '  Tags[0].Key: must not begin with aws:',
      '  EmailIdentity: has an empty label at position 4',
      '',
    ]);
  });

  it.each([
    ['30', 'retry after 30 s (Retry-After)'],
    // Two minutes from when the table was built: at most 120 s by the time the test runs.
    [
      new Date(Date.now() + 120_000).toUTCString(),
      /retry after ([1-9]\d?|1[01]\d|120) s \(Retry-After\)/,
    ],
    [undefined, 'retry with backoff'],
  ])('429 with Retry-After %s: exits 4 and says when to come back', async (header, advice) => {
    const fake = await serve(() =>
      apiError(
        429,
        'THROTTLED',
        'Step Functions throttled the start',
        undefined,
        header === undefined ? {} : { 'retry-after': header },
      ),
    );

    const run = await runCapture(['status', 'mail.example.com'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('429 THROTTLED: Step Functions throttled the start');
    expect(run.stderr).toMatch(advice);
  });

  it.each([
    [
      apiError(404, 'NOT_FOUND', 'The stack does not manage x.example.com'),
      '404 NOT_FOUND: The stack does not manage x.example.com',
    ],
    [
      apiError(409, 'CONFLICT', 'A different request is still running'),
      '409 CONFLICT: A different request is still running',
    ],
    [{ status: 403, body: { message: 'Forbidden' } }, '403 HTTP_403: Forbidden'],
    [
      { status: 502, body: '<html>Bad Gateway</html>' },
      '502 HTTP_502: 502 Bad Gateway: <html>Bad Gateway</html>',
    ],
    [{ status: 500, body: '' }, '500 HTTP_500: 500 Internal Server Error'],
  ])('%j: exits 4 and says what the API said', async (reply, line) => {
    const fake = await serve(() => reply as Reply);

    const run = await runCapture(['status', 'x.example.com'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`status on the sandbox at ${fake.url}: ${line}`);
  });

  it('403 from API Gateway hints at the credentials and the Region signed for', async () => {
    const fake = await serve(() => ({ status: 403, body: { message: 'Forbidden' } }));

    const run = await runCapture(['list', '--api-url', fake.url, '--region', 'eu-west-1'], {
      env: {},
    });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('execute-api:Invoke');
  });

  it('an API that does not answer in --timeout: exits 3, naming the time', async () => {
    const fake = await serve(() => new Promise<Reply>(() => {}));

    const run = await runCapture(['status', 'mail.example.com', '--timeout', '0.2'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`status: no answer from ${fake.url} within 0.2 s (--timeout)\n`);
  });

  it('an --api-url whose host does not resolve: exits 3, naming the host', async () => {
    const run = await runCapture(
      ['status', 'mail.example.com', '--api-url', 'https://nowhere.invalid', '--unsigned'],
      { env: {} },
    );

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /cannot resolve the host of https:\/\/nowhere\.invalid \((ENOTFOUND|EAI_AGAIN)\)/,
    );
    expect(run.stderr).not.toContain('npm run sandbox');
  });

  it('Ctrl-C while a request is out: exits 130 and says the run goes on', async () => {
    const fake = await serve(() => new Promise<Reply>(() => {}));
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(new Error('interrupted')), 50);

    const run = await runCapture(['status', 'mail.example.com'], {
      env: sandboxEnv(fake),
      signal: interrupt.signal,
    });

    expect(run.code).toBe(130);
    expect(run.stderr).toContain('Stopped (Ctrl-C)');
  });
});

describe('status', () => {
  it.each([
    ['VERIFIED', 0],
    ['PENDING', 5],
    ['FAILED', 1],
    ['TIMED_OUT', 1],
    ['DEGRADED', 1],
  ])('%s exits %i', async (status, code) => {
    const fake = await serve(() => ok(identityView(status)));

    const run = await runCapture(['status', 'mail.example.com'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(code);
  });

  it("shows a failed run's reason and each record ✗ with what DNS held and what SES expects", async () => {
    const view = identityView('FAILED', {
      dkim_status: 'FAILED',
      checked_at: '2026-11-23T10:04:00.000Z',
      probe: [
        {
          name: CNAME.name,
          type: 'CNAME',
          status: 'WRONG_VALUE',
          expected: CNAME.value,
          found: 'old.dkim.example.net',
          detail: 'points elsewhere',
        },
      ],
      ses: { verified_for_sending: false, verification_info: { error_type: 'HOST_NOT_FOUND' } },
      latest_run: {
        ...identityView('FAILED').latest_run,
        reason: {
          code: 'DKIM_FAILED',
          message: 'SES could not find the DKIM records',
          retryable: true,
        },
      },
    });
    const fake = await serve(() => ok(view));

    const run = await runCapture(['status', 'mail.example.com'], { env: sandboxEnv(fake) });

    expect(run.stdout.split('\n')).toEqual([
      'mail.example.com  DOMAIN  FAILED  DKIM FAILED',
      `  run      ${STARTED.id}  CreateIdentity  FAILED  2026-11-23 10:00:00Z → 2026-11-23 10:05:00Z`,
      '  reason   DKIM_FAILED: SES could not find the DKIM records (may be retried)',
      '  console  https://us-east-1.console.aws.amazon.com/states/home',
      '  SES      HOST_NOT_FOUND',
      '  records  as DNS held them at 2026-11-23 10:04:00Z',
      `    ✗ CNAME ${CNAME.name}  WRONG_VALUE: points elsewhere`,
      '      found    old.dkim.example.net',
      `      expected ${CNAME.value}`,
      '',
    ]);
  });

  it("prints the console link the stack gives: AWS's for a deployed stack, the sandbox's own for the sandbox", async () => {
    const deployedFake = await serve(() => ok(identityView('VERIFIED')));
    const view = identityView('VERIFIED') as { latest_run: Record<string, unknown> };
    const localConsole = 'http://127.0.0.1:3000/sandbox/console#run=arn%3Aaws%3Astates';
    const sandboxFake = await serve(() =>
      ok({ ...view, latest_run: { ...view.latest_run, console_url: localConsole } }),
    );

    const deployed = await runCapture(
      ['status', 'mail.example.com', '--api-url', deployedFake.url, '--unsigned'],
      { env: {} },
    );
    const sandbox = await runCapture(['status', 'mail.example.com'], {
      env: sandboxEnv(sandboxFake),
    });

    expect(deployed.stdout).toContain(
      '  console  https://us-east-1.console.aws.amazon.com/states/home\n',
    );
    expect(sandbox.stdout).toContain(`  console  ${localConsole}\n`);
  });

  it('puts an address in one path segment, its @ percent-encoded', async () => {
    const fake = await serve(() =>
      ok({
        ...identityView('PENDING'),
        identity: 'ops@example.com',
        identity_type: 'EMAIL_ADDRESS',
        records: [],
      }),
    );

    const run = await runCapture(['status', 'ops@example.com'], { env: sandboxEnv(fake) });

    expect(fake.requests[0]?.url).toBe('/identities/ops%40example.com');
    expect(run.stdout).toContain(
      'records  none: an address is verified by the link SES mails to it',
    );
  });
});

describe('list', () => {
  const item = (identity: string, status = 'VERIFIED') => ({
    identity,
    identity_type: 'DOMAIN',
    status,
    dkim_status: 'SUCCESS',
    updated_at: '2026-11-23T10:05:00.000Z',
    latest_run: { ...identityView(status).latest_run },
  });

  it('follows next_token to the last page and prints one row per identity', async () => {
    const fake = await serve((_request, index) =>
      index === 0
        ? ok({
            items: [item('a.example.com'), item('b.example.com')],
            next_token: 'eyJpZCI6MX0+/=',
          })
        : ok({ items: [item('c.example.com', 'FAILED')], next_token: null }),
    );

    const run = await runCapture(['list', '--status', 'VERIFIED'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(0);
    expect(fake.requests.map((request) => request.url)).toEqual([
      '/identities?status=VERIFIED&limit=100',
      '/identities?status=VERIFIED&limit=100&next_token=eyJpZCI6MX0%2B%2F%3D',
    ]);
    expect(run.stdout.split('\n')).toEqual([
      'IDENTITY       TYPE    STATUS    DKIM     UPDATED               LATEST RUN',
      'a.example.com  DOMAIN  VERIFIED  SUCCESS  2026-11-23 10:05:00Z  VERIFIED',
      'b.example.com  DOMAIN  VERIFIED  SUCCESS  2026-11-23 10:05:00Z  VERIFIED',
      'c.example.com  DOMAIN  FAILED    SUCCESS  2026-11-23 10:05:00Z  FAILED',
      '3 identities.',
      '',
    ]);
  });

  it('asks for no more than --limit still needs, and says more remain', async () => {
    const fake = await serve((_request, index) =>
      ok({
        items:
          index === 0 ? [item('a.example.com'), item('b.example.com')] : [item('c.example.com')],
        next_token: `t${index}`,
      }),
    );

    const run = await runCapture(['list', '--limit', '3', '--json'], { env: sandboxEnv(fake) });

    expect(fake.requests.map((request) => request.url)).toEqual([
      '/identities?limit=3',
      '/identities?limit=1&next_token=t0',
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({ next_token: 't1' });
    expect(JSON.parse(run.stdout).items).toHaveLength(3);
  });

  it('says so when there are none', async () => {
    const fake = await serve(() => ok({ items: [], next_token: null }));

    const run = await runCapture(['list'], { env: sandboxEnv(fake) });

    expect(run.stdout).toBe('No identities.\n');
  });
});

describe('check', () => {
  it('POSTs no body to /check and prints each record, exiting 1 when one is not right', async () => {
    const fake = await serve(() =>
      ok({
        identity: 'mail.example.com',
        status: 'PENDING',
        dkim_status: 'PENDING',
        records: [
          { ...CNAME, status: 'OK', found: CNAME.value, detail: null },
          { ...CNAME, name: `x${CNAME.name}`, status: 'MISSING', found: null, detail: 'NXDOMAIN' },
        ],
        woke_run: true,
        checked_at: '2026-11-23T10:03:00.000Z',
      }),
    );

    const run = await runCapture(['check', 'mail.example.com'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      url: '/identities/mail.example.com/check',
      body: '',
    });
    expect(run.stdout.split('\n')).toEqual([
      'mail.example.com  PENDING  DKIM PENDING  checked 2026-11-23 10:03:00Z: 1 of 2 record(s) right',
      `  ✓ CNAME ${CNAME.name}`,
      `    found    ${CNAME.value}`,
      `  ✗ CNAME x${CNAME.name}  MISSING: NXDOMAIN`,
      '    found    nothing',
      `    expected ${CNAME.value}`,
      'Woke the waiting run: it asks SES now.',
      '',
    ]);
  });
});

describe('delete (DELETE /identities/{identity} answers 202)', () => {
  const DELETED = { identity: 'ops@example.com', status: 'DELETING' };

  it('with --yes: sends DELETE for the identity, prints what follows, exits 0', async () => {
    const fake = await serve(() => ok(DELETED, 202));

    const run = await runCapture(['delete', 'ops@example.com', '--yes'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(0);
    expect(
      fake.requests.map((request) => `${request.method} ${request.url} ${request.body}`),
    ).toEqual(['DELETE /identities/ops%40example.com ']);
    expect(run.stdout).toContain('Deletion of ops@example.com accepted');
    expect(run.stdout).toContain('"Email Identity Deleted"');
    expect(run.stdout).toMatch(/^ {2}status +DELETING$/m);
  });

  it("--wait asks until the API's own 404 NOT_FOUND says the identity is gone", async () => {
    const fake = await serve((request, index) => {
      if (request.method === 'DELETE') return ok(DELETED, 202);
      if (index === 2)
        return apiError(429, 'THROTTLED', 'slow down', undefined, { 'retry-after': '3' });
      return index < 4
        ? ok(identityView('VERIFIED'))
        : apiError(404, 'NOT_FOUND', 'Nobody knows ops@example.com');
    });

    const run = await runCapture(
      ['delete', 'ops@example.com', '--yes', '--wait', '--interval', '2'],
      {
        env: sandboxEnv(fake),
      },
    );

    expect(run.code).toBe(0);
    expect(fake.requests.map((request) => request.method)).toEqual([
      'DELETE',
      'GET',
      'GET',
      'GET',
      'GET',
    ]);
    expect(run.sleeps).toEqual([2000, 3000, 2000]);
    expect(run.stderr).toContain('Waiting until ops@example.com is gone');
    expect(run.stdout).toMatch(/ops@example\.com is deleted\.\n$/);
  });

  it("--wait does not take API Gateway's 404 for a missing route as the identity gone", async () => {
    const fake = await serve((request) =>
      request.method === 'DELETE'
        ? ok(DELETED, 202)
        : { status: 404, body: { message: 'Not Found' } },
    );

    const run = await runCapture(['delete', 'ops@example.com', '--yes', '--wait'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(4);
    expect(run.stdout).not.toContain('is deleted');
  });

  it('at a terminal: deletes once the identity is typed back', async () => {
    const fake = await serve(() => ok(DELETED, 202));

    const run = await runCapture(['delete', 'ops@example.com', '--json'], {
      env: sandboxEnv(fake),
      answer: 'ops@example.com',
    });

    expect(run.code).toBe(0);
    expect(fake.requests).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual(DELETED);
  });

  it('at a terminal: deletes nothing when the answer is not the identity', async () => {
    const fake = await serve(() => ok(DELETED, 202));

    const run = await runCapture(['delete', 'ops@example.com'], {
      env: sandboxEnv(fake),
      answer: 'y',
    });

    expect(run.code).toBe(2);
    expect(fake.requests).toHaveLength(0);
    expect(run.stderr).toContain('Not confirmed: nothing deleted.');
  });

  it("a stack without the route (API Gateway's own 404): exits 4 and says the route is missing", async () => {
    const fake = await serve(() => ({ status: 404, body: { message: 'Not Found' } }));

    const run = await runCapture(['delete', 'ops@example.com', '--yes'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('404 HTTP_404: Not Found');
    expect(run.stderr).toContain('The API has no such route');
  });

  it('an identity the stack does not manage: exits 4 with the 404', async () => {
    const fake = await serve(() =>
      apiError(404, 'NOT_FOUND', 'The stack does not manage ops@example.com'),
    );

    const run = await runCapture(['delete', 'ops@example.com', '--yes'], { env: sandboxEnv(fake) });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('404 NOT_FOUND');
    expect(run.stderr).not.toContain('no such route');
  });
});

describe('change-dkim', () => {
  it("PUTs SES's signing request to /dkim and prints the change it started", async () => {
    const fake = await serve(() =>
      ok(
        { ...STARTED, operation: 'ChangeDkimSigning', signing_attributes_origin: 'EXTERNAL' },
        202,
      ),
    );

    const run = await runCapture(
      [
        'change-dkim',
        'mail.example.com',
        '--generate-key',
        '--key-length',
        '2048',
        '--idempotency-key',
        'rotation-2026-11',
      ],
      { env: sandboxEnv(fake) },
    );

    expect(run.code).toBe(0);
    const [request] = fake.requests as [ReceivedRequest];
    expect(`${request.method} ${request.url}`).toBe('PUT /identities/mail.example.com/dkim');
    expect(request.headers['idempotency-key']).toBe('rotation-2026-11');
    expect(JSON.parse(request.body)).toEqual({
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: { GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' } },
    });
    expect(run.stdout).toContain('Started the DKIM change of mail.example.com to EXTERNAL.');
  });
});

describe('events', () => {
  it('refuses a deployed stack: its events go to its EventBridge bus', async () => {
    const run = await runCapture(
      ['events', '--api-url', 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com'],
      {
        env: {},
      },
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('subscribe to them with a rule');
  });

  it("asks the sandbox with the filters and prints a failure's reason under its line", async () => {
    const fake = await serve(() => ({
      status: 200,
      body: {
        events: [
          {
            id: 'e1',
            time: '2026-11-23T10:05:00Z',
            'detail-type': 'Email Identity Verification Failed',
            source: 'ses-identity-verifier',
            detail: {
              identity: 'mail.example.com',
              reason: { code: 'TIMED_OUT', message: 'SES did not verify in 72 hours' },
            },
          },
        ],
      },
    }));

    const run = await runCapture(
      [
        'events',
        '--identity',
        'mail.example.com',
        '--detail-type',
        'Email Identity Verification Failed',
      ],
      {
        env: sandboxEnv(fake),
      },
    );

    expect(fake.requests[0]?.url).toBe(
      '/sandbox/events?identity=mail.example.com&detail-type=Email+Identity+Verification+Failed',
    );
    expect(run.stdout.split('\n')).toEqual([
      '2026-11-23 10:05:00Z  Email Identity Verification Failed  mail.example.com',
      '  TIMED_OUT: SES did not verify in 72 hours',
      '',
    ]);
  });

  it('--follow asks only for the events after the last one it printed', async () => {
    const event = (id: string) => ({
      id,
      time: '2026-11-23T10:05:00Z',
      'detail-type': 'DNS Records Published',
      source: 'ses-identity-verifier',
      detail: { identity: 'mail.example.com' },
    });
    const pages = [[event('e1'), event('e2')], [event('e3')], []];
    const fake = await serve((_request, index) => ({
      status: 200,
      body: { events: pages[index] ?? [] },
    }));
    const interrupt = new AbortController();

    const run = await runCapture(['events', '--follow', '--interval', '0.01'], {
      env: sandboxEnv(fake),
      signal: interrupt.signal,
      onSleep: (count) => {
        if (count === 3) interrupt.abort(new Error('interrupted'));
      },
    });

    expect(run.code).toBe(0);
    expect(fake.requests.map((request) => request.url)).toEqual([
      '/sandbox/events',
      '/sandbox/events?after=e2',
      '/sandbox/events?after=e3',
    ]);
    expect(run.stdout.match(/DNS Records Published/g)).toHaveLength(3);
  });
});

describe('a deployed stack by --api-url', () => {
  const CREDENTIALS = {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };

  /** The default chain finds these first: the environment's credentials. */
  const stubCredentials = () => {
    for (const [name, value] of Object.entries(CREDENTIALS)) vi.stubEnv(name, value);
  };

  /** Re-signs the request as the server received it; equal only if nothing changed on the way. */
  async function signatureOf(request: ReceivedRequest, region: string, sessionToken?: string) {
    const authorization = String(request.headers.authorization);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    const url = new URL(request.url, `http://${request.headers.host}`);
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = String(request.headers[name]);
    const amzDate = String(request.headers['x-amz-date']);
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const signer = new SignatureV4({
      service: 'execute-api',
      region,
      sha256: Sha256,
      applyChecksum: false,
      credentials: {
        accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
        ...(sessionToken !== undefined && { sessionToken }),
      },
    });
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query,
        headers,
        ...(request.body !== '' && { body: request.body }),
      }),
      { signingDate },
    );
    return signed.headers.authorization;
  }

  it("signs each request for execute-api in the given Region with the default chain's credentials", async () => {
    const fake = await serve(() => ok({ items: [], next_token: null }));
    stubCredentials();

    const run = await runCapture(
      ['list', '--status', 'FAILED', '--api-url', `${fake.url}/`, '--region', 'eu-west-1'],
      {
        env: {},
      },
    );

    expect(run.code).toBe(0);
    const [request] = fake.requests as [ReceivedRequest];
    expect(request.url).toBe('/identities?status=FAILED&limit=100');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers.authorization).toBe(await signatureOf(request, 'eu-west-1'));
  });

  it("signs a POST's body, its Idempotency-Key and the session token", async () => {
    const fake = await serve(() => ok(STARTED, 202));
    stubCredentials();
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token-example');

    const run = await runCapture(
      [
        'start',
        'ops@example.com',
        '--idempotency-key',
        'k1',
        '--api-url',
        fake.url,
        '--region',
        'eu-west-1',
      ],
      { env: {} },
    );

    expect(run.code).toBe(0);
    const [request] = fake.requests as [ReceivedRequest];
    expect(request.headers['x-amz-security-token']).toBe('session-token-example');
    expect(String(request.headers.authorization)).toContain(
      'SignedHeaders=accept;content-type;host;idempotency-key;x-amz-date;x-amz-security-token,',
    );
    expect(request.headers.authorization).toBe(
      await signatureOf(request, 'eu-west-1', 'session-token-example'),
    );
  });

  it('signs a base path and a percent-encoded identity as they go on the wire', async () => {
    const fake = await serve(() => ok(identityView('VERIFIED')));
    stubCredentials();

    await runCapture(
      ['status', 'ops@example.com', '--api-url', `${fake.url}/prod`, '--region', 'us-west-2'],
      { env: {} },
    );

    const [request] = fake.requests as [ReceivedRequest];
    expect(request.url).toBe('/prod/identities/ops%40example.com');
    expect(request.headers.authorization).toBe(await signatureOf(request, 'us-west-2'));
  });

  it('sends no signature with --unsigned', async () => {
    const fake = await serve(() => ok(identityView('VERIFIED')));

    await runCapture(['status', 'mail.example.com', '--api-url', fake.url, '--unsigned'], {
      env: {},
    });

    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('a private key given to the CLI is never printed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-key-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const der = privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');
  const keyFile = join(dir, 'dkim.pem');
  writeFileSync(keyFile, pem);
  // PKCS#1 DER holds the modulus (public: a BYODKIM TXT record publishes it) in its first 150
  // or so bytes; from byte 200 on, the private exponent, primes and coefficients: never shown.
  const secret = der.slice(Math.ceil((200 * 4) / 3));
  const secretWindowsIn = (text: string) => {
    const found: string[] = [];
    for (let at = 0; at + 16 <= secret.length; at += 1) {
      if (text.includes(secret.slice(at, at + 16))) found.push(secret.slice(at, at + 16));
    }
    return found;
  };

  it('sends the key in the body as base64 DER, and withholds it from an answer that echoes it', async () => {
    const fake = await serve((request) =>
      apiError(400, 'VALIDATION_ERROR', `Key rejected: ${request.body}`, [
        {
          field: 'DkimSigningAttributes.DomainSigningPrivateKey',
          message: `not ${der.slice(-60, -20)}`,
        },
      ]),
    );

    const run = await runCapture(
      ['start', 'mail.example.com', '--selector', 's1', '--key-file', keyFile],
      { env: sandboxEnv(fake) },
    );

    expect(JSON.parse(fake.requests[0]?.body ?? '{}').DkimSigningAttributes).toEqual({
      DomainSigningSelector: 's1',
      DomainSigningPrivateKey: der,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[private key withheld]');
    expect(secretWindowsIn(run.stderr)).toEqual([]);
    expect(run.stderr).not.toContain('BEGIN PRIVATE KEY');
  });

  it('withholds a key from --body-file in --json output too', async () => {
    const body = join(dir, 'body.json');
    writeFileSync(
      body,
      JSON.stringify({
        EmailIdentity: 'mail.example.com',
        DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: der },
      }),
    );
    const fake = await serve((request) => ok({ ...STARTED, echo: JSON.parse(request.body) }, 202));

    const run = await runCapture(['start', '--body-file', body, '--json'], {
      env: sandboxEnv(fake),
    });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('[private key withheld]');
    expect(secretWindowsIn(run.stdout)).toEqual([]);
  });

  it('names an unreadable --key-file by path and code, never by content', async () => {
    const notAKey = join(dir, 'not-a-key.pem');
    writeFileSync(
      notAKey,
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----\n',
    );

    const run = await runCapture(
      ['start', 'mail.example.com', '--selector', 's1', '--key-file', notAKey],
      { env: {} },
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--key-file ${notAKey}: not a readable RSA private key in PEM`);
    expect(run.stderr).not.toContain('c2VjcmV0LWJ1dC1icm9rZW4');
  });
});
