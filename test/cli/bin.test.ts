import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, type Reply, startFakeApi } from './cli-harness.js';

// The bin package.json names, run as `npx ses-identity-verifier` runs it: a Node process that
// loads the TypeScript through tsx, with real stdout, stderr, exit code and Ctrl-C.

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));
const run = promisify(execFile);

let api: FakeApi | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await api?.close();
  api = undefined;
  child = undefined;
});

function exec(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('the ses-identity-verifier bin', () => {
  it('prints the usage on stdout with --help and exits 0', async () => {
    const { code, stdout, stderr } = await exec(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: ses-identity-verifier <command> \[options\]/);
    expect(stderr).toBe('');
  });

  it('answers status from the sandbox port it is given, the record on stdout', async () => {
    api = await startFakeApi(() => ({
      status: 200,
      body: {
        success: true,
        data: {
          identity: 'mail.example.com',
          identity_type: 'DOMAIN',
          status: 'PENDING',
          latest_run: null,
        },
      },
    }));

    const { code, stdout } = await exec(['status', 'mail.example.com'], {
      SANDBOX_API_PORT: String(api.port),
    });

    expect(code).toBe(5);
    expect(stdout).toMatch(/^mail\.example\.com {2}DOMAIN {2}PENDING$/m);
  });

  it('exits 130 on Ctrl-C while waiting for an answer, saying the run goes on', async () => {
    let received: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      received = resolve;
    });
    api = await startFakeApi(() => {
      received();
      return new Promise<Reply>(() => {});
    });
    child = spawn(process.execPath, [BIN, 'status', 'mail.example.com'], {
      env: { ...process.env, SANDBOX_API_PORT: String(api.port) },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', resolve));

    // The request is out, so the CLI is running and listening for SIGINT.
    await arrived;
    child.kill('SIGINT');

    expect(await exited).toBe(130);
    expect(stderr).toContain('Stopped (Ctrl-C)');
  });
});
