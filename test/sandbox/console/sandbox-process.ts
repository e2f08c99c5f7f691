/**
 * Runs `npm run sandbox`'s entry point (sandbox/server.ts) in a child process, as a person runs
 * it, on ports the system picks: the console's browser test drives its page, the progress tests
 * read what it prints and how it stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface SandboxProcess {
  apiUrl: string;
  awsUrl: string;
  child: ChildProcess;
  /** Everything printed so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves once stderr holds a line matching `pattern`. */
  waitForStderr(pattern: RegExp): Promise<string>;
  /** Resolves once stdout matches `pattern`. */
  waitForStdout(pattern: RegExp): Promise<string>;
  /** Sends `signal` (SIGINT by default: Ctrl-C) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts sandbox/server.ts (or `entry`) with `args` and `env`; resolves once it is ready. */
export async function startSandboxProcess(
  options: { args?: string[]; env?: Record<string, string>; entry?: string } = {},
): Promise<SandboxProcess> {
  // Node itself with tsx's loader, as `tsx sandbox/server.ts` runs it, without tsx's own parent
  // process between the test and the sandbox: a signal reaches the sandbox directly.
  const entry = options.entry ?? 'sandbox/server.ts';
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...(options.args ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      SANDBOX_API_PORT: '0',
      SANDBOX_AWS_PORT: '0',
      SANDBOX_DNS_PORT: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const waiters = new Set<() => void>();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
      for (const waiter of waiters) waiter();
    });
  });

  const waitFor = (stream: () => string, pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = stream().match(pattern);
        if (found) {
          waiters.delete(look);
          resolve(found[0]);
        } else if (child.exitCode !== null) {
          waiters.delete(look);
          reject(
            new Error(
              `the sandbox exited (${child.exitCode}) before printing ${pattern}:\n${stderr}`,
            ),
          );
        }
      };
      waiters.add(look);
      look();
    });

  const waitForStderr = (pattern: RegExp) => waitFor(() => stderr, pattern);
  const url = /http:\/\/[^\s,]+/;
  const api = await waitForStderr(/API\s+http:\/\/[^\s,]+/);
  const aws = await waitForStderr(/AWS endpoint\s+http:\/\/[^\s,]+/);
  return {
    apiUrl: (api.match(url) as RegExpMatchArray)[0],
    awsUrl: (aws.match(url) as RegExpMatchArray)[0],
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    waitForStderr,
    waitForStdout: (pattern) => waitFor(() => stdout, pattern),
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm start`'s entry point (sandbox/cli.ts) with `args` to its end, or, with `interruptWhen`,
 * sends it SIGINT (Ctrl-C) once its stderr matches that pattern.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; interruptWhen?: RegExp } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (options.interruptWhen && !interrupted && options.interruptWhen.test(stderr)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
