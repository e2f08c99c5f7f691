import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { runCapture } from './cli-harness.js';

// The CLI against the whole sandbox in this process, on free ports, as an operator runs it
// against `npm run sandbox`: the default target, found through SANDBOX_API_PORT.

// Taken before the sandbox fakes the timers: the CLI's pauses between polls are real time.
const realSetTimeout = globalThis.setTimeout;
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

let stack: SandboxStack;
let env: Record<string, string>;

beforeAll(async () => {
  // 60 virtual seconds a real second, as `npm run sandbox`: a run verifies within a few real
  // seconds, and a run left waiting does not race through 72 hours of sweeps meanwhile. SES's
  // rate is off so that a GET never meets a 429 because a run looked at the same instant.
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 }, maxSpeed: 60 });
  if (stack.apiUrl === undefined) throw new Error('the sandbox started no API');
  env = { SANDBOX_API_PORT: new URL(stack.apiUrl).port };
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

const cli = (
  argv: string[],
  options: { signal?: AbortSignal; onSleep?: (n: number) => void } = {},
) => runCapture(argv, { env, pause, ...options });

describe('start, status, check and list against the sandbox', () => {
  it('start --wait follows a run to VERIFIED, exits 0 and lists the records SES found', async () => {
    const run = await cli([
      'start',
      'mail.example.com',
      '--tag',
      'tenant=acme',
      '--wait',
      '--interval',
      '0.2',
    ]);

    expect(run.stderr).toContain('Waiting for run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Started the verification of mail.example.com (DOMAIN).');
    expect(run.stdout).toMatch(/^mail\.example\.com {2}DOMAIN {2}VERIFIED {2}DKIM SUCCESS$/m);
    // The run opens in the sandbox's own console, not in AWS's.
    expect(run.stdout).toMatch(
      new RegExp(`^ {2}console {2}${stack.apiUrl}/sandbox/console#run=[\\w-]+$`, 'm'),
    );
    // Verified on SES's word (a sweep saw SUCCESS): the records are listed, not yet looked at.
    expect(run.stdout).toContain('SES found them (DKIM SUCCESS); the stack has not looked itself');
    expect(
      run.stdout.match(/^ {4}\? CNAME [a-z2-7]{32}\._domainkey\.mail\.example\.com$/gm),
    ).toHaveLength(3);
  });

  it('check of a verified identity finds every record right and exits 0', async () => {
    const run = await cli(['check', 'mail.example.com']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^mail\.example\.com {2}VERIFIED {2}DKIM SUCCESS {2}checked .*: 3 of 3 record\(s\) right$/m,
    );
    expect(
      run.stdout.match(/^ {2}✓ CNAME [a-z2-7]{32}\._domainkey\.mail\.example\.com$/gm),
    ).toHaveLength(3);
    expect(run.stdout).toContain('No run was waiting on this identity.');
  });

  it('status after a check shows each record ✓ with what DNS held, and exits 0', async () => {
    const human = await cli(['status', 'mail.example.com']);
    const json = await cli(['status', 'mail.example.com', '--json']);

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/run {6}\S+ {2}CreateIdentity {2}VERIFIED/);
    expect(human.stdout).toMatch(/records {2}as DNS held them at /);
    expect(
      human.stdout.match(/^ {4}✓ CNAME [a-z2-7]{32}\._domainkey\.mail\.example\.com$/gm),
    ).toHaveLength(3);
    expect(human.stdout.match(/found {4}[a-z2-7]{32}\.dkim\.amazonses\.com$/gm)).toHaveLength(3);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout);
    expect(view).toMatchObject({ identity: 'mail.example.com', status: 'VERIFIED' });
    expect(view.records).toHaveLength(3);
  });

  it('start repeated with the same request says nothing new started', async () => {
    const run = await cli(['start', 'mail.example.com', '--tag', 'tenant=acme']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('An identical request already started the verification');
  });

  it('check of records nobody published shows each ✗ with nothing found and what SES expects, and exits 1', async () => {
    const started = await cli(['start', 'manual.example.com', '--dns', 'manual']);
    expect(started.code).toBe(0);
    // The manual provider publishes nothing; the registry knows the records once the run has
    // derived them, a moment after the 202.
    const recordsKnown = async () =>
      JSON.parse((await cli(['check', 'manual.example.com', '--json'])).stdout || '{}').records
        ?.length === 3;
    // Bounded in real time (performance.now: Date is the virtual clock's), not in attempts.
    const giveUpAt = performance.now() + 30_000;
    while (!(await recordsKnown()) && performance.now() < giveUpAt) await pause(100);

    const check = await cli(['check', 'manual.example.com']);
    const pending = await cli(['status', 'manual.example.com']);

    expect(check.code).toBe(1);
    expect(check.stdout).toContain('0 of 3 record(s) right');
    expect(
      check.stdout.match(
        /^ {2}✗ CNAME [a-z2-7]{32}\._domainkey\.manual\.example\.com {2}MISSING/gm,
      ),
    ).toHaveLength(3);
    expect(check.stdout.match(/^ {4}found {4}nothing$/gm)).toHaveLength(3);
    expect(check.stdout.match(/^ {4}expected [a-z2-7]{32}\.dkim\.amazonses\.com$/gm)).toHaveLength(
      3,
    );
    expect(pending.code).toBe(5);
    expect(pending.stdout).toMatch(/^manual\.example\.com {2}DOMAIN {2}PENDING/m);
  });

  it('list shows every identity, filters by status, and stops at --limit', async () => {
    const all = await cli(['list']);
    const verified = await cli(['list', '--status', 'VERIFIED', '--json']);
    const one = await cli(['list', '--limit', '1']);

    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^IDENTITY +TYPE +STATUS +DKIM +UPDATED +LATEST RUN$/m);
    expect(all.stdout).toMatch(/^mail\.example\.com +DOMAIN +VERIFIED /m);
    expect(all.stdout).toMatch(/^manual\.example\.com +DOMAIN +PENDING /m);
    expect(all.stdout).toContain('2 identities.');
    expect(
      JSON.parse(verified.stdout).items.map((item: { identity: string }) => item.identity),
    ).toEqual(['mail.example.com']);
    expect(one.stdout).toContain('1 shown; more remain');
  });

  it('start of an invalid identity exits 2 and names the field on stderr', async () => {
    const run = await cli(['start', 'bad..example.com']);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/400 VALIDATION_ERROR/);
    expect(run.stderr).toMatch(/^ {2}EmailIdentity: /m);
  });

  it("status of an identity the stack does not know exits 4 with the API's NOT_FOUND", async () => {
    const run = await cli(['status', 'nobody.example.com']);

    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/404 NOT_FOUND/);
  });
});

describe('events against the sandbox', () => {
  it('lists the delivered events of an identity, one line each', async () => {
    const human = await cli(['events', '--identity', 'mail.example.com']);
    const json = await cli(['events', '--identity', 'mail.example.com', '--json']);

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Email Identity Verified {2}mail\.example\.com$/m);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((event) => event['detail-type'])).toContain('Email Identity Verified');
    expect(lines.every((event) => event.detail.identity === 'mail.example.com')).toBe(true);
  });

  it('--follow prints each event once, however often it asks, until Ctrl-C', async () => {
    const interrupt = new AbortController();
    const run = await cli(
      ['events', '--follow', '--identity', 'mail.example.com', '--interval', '0.05'],
      {
        signal: interrupt.signal,
        onSleep: (count) => {
          if (count === 3) interrupt.abort(new Error('interrupted'));
        },
      },
    );

    expect(run.code).toBe(0);
    expect(run.stdout.match(/Email Identity Verified/g)).toHaveLength(1);
  });
});

describe('a sandbox that is not running', () => {
  it('exits 3 and says the sandbox is not reachable, and how to start it', async () => {
    // A port nobody listens on: bound, read, released.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const run = await runCapture(['status', 'mail.example.com'], {
      env: { SANDBOX_API_PORT: String(port) },
    });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`connection refused by http://127.0.0.1:${port}`);
    expect(run.stderr).toContain('npm run sandbox');
  });
});
