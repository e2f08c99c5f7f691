/**
 * What `npm start` and `npm run sandbox` print, run as a person runs them (their entry points in
 * child processes): progress a person can follow, the failure's reason in words, quiet when
 * asked, a summary on Ctrl-C, and no library's warnings.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type SandboxProcess, startSandboxProcess } from './sandbox-process.js';

// Bounds on a hung process, not speed requirements.
const TIMEOUT = 120_000;

/** The line shapes progress has; anything else on stderr (a library's warning) fails a test. */
const PROGRESS_LINE = /^(\S+ )?\[\+(\d+d )?\d\d:\d\d:\d\d\] /;
const OWN_LINES = [
  PROGRESS_LINE,
  /^Sandbox up in \d+ ms: /,
  /^Execution arn:aws:states:/,
  /^Execution (SUCCEEDED|FAILED|TIMED_OUT|ABORTED)/,
  /^Failed: [A-Z_]+: /,
  /^(The same request may succeed|Trying the same request again)/,
  /^ {4}\S+\._domainkey\.\S+ \d+ IN /,
];
const strayLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line !== '')
    .filter((line) => !OWN_LINES.some((shape) => shape.test(line)));

describe('npm start', () => {
  it(
    'prints a line per step that does work, and on failure the reason in words on stderr',
    async () => {
      const { code, stdout, stderr } = await runCli(['bad.example.org', '--dns', 'route53']);

      expect(code).toBe(1);
      expect(strayLines(stderr)).toEqual([]);
      expect(stderr).toMatch(
        /^\[\+00:00:0\d\] PublishDnsRecords failed: DnsPublishError - The request asked for the route53 provider, but no route53 zone holds bad\.example\.org$/m,
      );
      expect(stderr).toMatch(
        /^Failed: DNS_PUBLISH_FAILED: The request asked for the route53 provider, but no route53 zone holds bad\.example\.org$/m,
      );
      // Choice and Pass states do no work: no line of their own.
      for (const state of [
        'ReadRequest',
        'ChooseOperation',
        'HasKeySecret',
        'IsDomainIdentity',
        'HoldsIdentity',
      ]) {
        expect(stderr).not.toContain(state);
      }
      const steps = stderr
        .split('\n')
        .filter((line) => PROGRESS_LINE.test(line))
        .map((line) => line.replace(PROGRESS_LINE, '').split(/[: ]/)[0]);
      expect(steps).toEqual([
        'ClaimIdentity',
        'CreateIdentity',
        'PublishDnsRecords',
        'DescribeFailure',
        'RecordFailure',
        'NotifyVerificationFailed',
      ]);
      const event = JSON.parse(stdout) as { 'detail-type': string };
      expect(event['detail-type']).toBe('Email Identity Verification Failed');
    },
    TIMEOUT,
  );

  it(
    'with --quiet prints nothing on stderr for a run that verifies, and the event on stdout',
    async () => {
      const { code, stdout, stderr } = await runCli(['quiet.example.com', '--quiet']);

      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect((JSON.parse(stdout) as { 'detail-type': string })['detail-type']).toBe(
        'Email Identity Verified',
      );
    },
    TIMEOUT,
  );

  it(
    'with SANDBOX_TIMINGS=1 adds one stderr line of its phases, each ending after the one before, and stdout keeps only the event',
    async () => {
      const { code, stdout, stderr } = await runCli(['timed.example.com', '--quiet'], {
        env: { SANDBOX_TIMINGS: '1' },
      });

      expect(code).toBe(0);
      expect(JSON.parse(stdout)['detail-type']).toBe('Email Identity Verified');
      const line = /^Timings, ms since the process started: (.*)\n$/.exec(stderr)?.[1] ?? '';
      const phases = line.split(', ').map((part) => /^(.+) (\d+)$/.exec(part)?.slice(1));
      expect(phases.map((phase) => phase?.[0])).toEqual([
        'bundle loaded and request parsed',
        'stack modules imported',
        'emulators started (dynalite included)',
        'servers listening (AWS endpoint and DNS)',
        'template deployed',
        "functions' clients made",
        'sandbox up',
        'run done',
        'stopped',
      ]);
      const ends = phases.map((phase) => Number(phase?.[1]));
      expect(ends).toEqual([...ends].sort((a, b) => a - b));
    },
    TIMEOUT,
  );

  it(
    'on Ctrl-C stops the run and says where it was, with exit code 130',
    async () => {
      // At a person's pace the run sleeps a virtual day in AwaitVerification: Ctrl-C finds it there.
      const { code, stdout, stderr } = await runCli(['asleep.example.org'], {
        env: { SANDBOX_TIME_SCALE: '60' },
        interruptWhen: /sleeps until SES changes/,
      });

      expect(code).toBe(130);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^Interrupted after [\d.]+ s of wall time; the run is stopped\.$/m);
      expect(stderr).toMatch(/^Runs: 1 \(1 running\)$/m);
      expect(stderr).toMatch(
        /^ {2}cli-\d+ {2}asleep\.example\.org {2}RUNNING for 00:00:\d\d, in AwaitVerification$/m,
      );
      expect(stderr).toMatch(/^Events delivered: 1 \(1 "DNS Records Required"\)$/m);
    },
    TIMEOUT,
  );
});

describe('npm run sandbox', () => {
  let sandbox: SandboxProcess | undefined;
  afterAll(async () => {
    await sandbox?.stop('SIGKILL');
  });

  it(
    'names each run in full on its lines, says how each ended, and sums up on Ctrl-C',
    async () => {
      sandbox = await startSandboxProcess({ env: { SANDBOX_TIME_SCALE: '600' } });
      const post = async (body: unknown) => {
        const response = await fetch(`${sandbox?.apiUrl}/identities`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return ((await response.json()) as { data: { id: string } }).data.id;
      };
      const verified = await post({ EmailIdentity: 'shown.example.com' });
      const failed = await post({
        EmailIdentity: 'nozone.example.org',
        Dns: { Provider: 'route53' },
      });
      await sandbox.waitForStderr(new RegExp(`^${verified} \\[\\+[\\d:]+\\] SUCCEEDED after`, 'm'));
      await sandbox.waitForStderr(new RegExp(`^${failed} \\[\\+[\\d:]+\\] FAILED after`, 'm'));
      const code = await sandbox.stop('SIGINT');
      const stderr = sandbox.stderr();

      expect(code).toBe(0);
      expect(stderr).toMatch(/^ {2}Console {7}http:\/\/127\.0\.0\.1:\d+\/sandbox\/console$/m);
      expect(stderr).toMatch(
        new RegExp(
          `^${failed} \\[\\+00:00:0\\d\\] FAILED after 00:00:0\\d: DNS_PUBLISH_FAILED - The request asked for the route53 provider, but no route53 zone holds nozone\\.example\\.org$`,
          'm',
        ),
      );
      expect(stderr).toMatch(
        new RegExp(`^${verified} \\[\\+00:00:00\\] started for shown\\.example\\.com$`, 'm'),
      );
      expect(stderr).not.toMatch(/HasKeySecret|IsDomainIdentity|EvaluateVerification/);
      expect(stderr).toMatch(/^SIGINT: stopping the sandbox after [\dd :]+ of virtual time\.$/m);
      expect(stderr).toMatch(/^Runs: 2 \(1 succeeded, 1 failed\)$/m);
      expect(stderr).toContain(`  ${verified}  shown.example.com  SUCCEEDED after`);
      expect(stderr).toMatch(/^Events delivered: 3 \(/m);
      // One JSON line per event on stdout.
      const events = sandbox
        .stdout()
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { 'detail-type': string })['detail-type']);
      expect(events.sort()).toEqual([
        'DNS Records Published',
        'Email Identity Verification Failed',
        'Email Identity Verified',
      ]);
    },
    TIMEOUT,
  );

  it(
    'with --quiet prints one ready line and no progress',
    async () => {
      const quiet = await startSandboxProcess({
        args: ['--quiet'],
        env: { SANDBOX_TIME_SCALE: '600' },
      });
      try {
        const response = await fetch(`${quiet.apiUrl}/identities`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ EmailIdentity: 'hushed.example.com' }),
        });
        expect(response.status).toBe(202);
        // The run's end is on stdout: its terminal event.
        await quiet.waitForStdout(/"detail-type":"Email Identity Verified"/);
        expect(await quiet.stop('SIGINT')).toBe(0);
        const lines = quiet.stderr().trim().split('\n');
        expect(lines[0]).toMatch(
          /^Sandbox ready \(Ctrl-C to stop\): console http:\/\/127\.0\.0\.1:\d+\/sandbox\/console, API /,
        );
        expect(lines.filter((line) => /\[\+[\d:]+\]/.test(line))).toEqual([]);
        expect(lines).toContain('Runs: 1 (1 succeeded)');
      } finally {
        await quiet.stop('SIGKILL');
      }
    },
    TIMEOUT,
  );
});

describe('npm run sandbox, asked for what it does not know', () => {
  it('names the option and exits 2 before starting anything', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'sandbox/server.ts', '--bogus'],
      {
        cwd: fileURLToPath(new URL('../../../', import.meta.url)),
        encoding: 'utf8',
      },
    );

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "sandbox: Unknown option '--bogus'\nRun `npm run sandbox -- --help` for the options.\n",
    );
  });
});

describe('npm itself', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const npm = (args: string[]) =>
    spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
      cwd: root,
      encoding: 'utf8',
      // As a person runs it: not under the log level of the npm that runs this test
      // (`npm test --loglevel=warn` passes it down as npm_config_loglevel).
      env: Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !/^npm_config_loglevel$/i.test(name)),
      ),
    });

  it("keeps npm's banner off npm start's stdout: the project's .npmrc sets loglevel=silent", () => {
    expect(npm(['config', 'get', 'loglevel']).stdout.trim()).toBe('silent');
    const result = npm(['start', '--', '--help']);

    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('Usage: npm start -- [identity] [options]')).toBe(true);
    expect(result.stdout).not.toContain('> ses-identity-verifier');
  });

  it("keeps npm start --silent for pipes: its stdout is the program's alone", () => {
    const result = npm(['start', '--silent', '--', '--help']);

    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('Usage: npm start -- [identity] [options]')).toBe(true);
  });
});
