/**
 * Runs the CLI in-process with captured output, and a fake HTTP API on 127.0.0.1 that records
 * what it was sent and answers what the test says.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '#cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Every pause the CLI took, in milliseconds (waits are instant here). */
  sleeps: number[];
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Answers a confirmation question as a person at a terminal would; absent: not a terminal. */
  answer?: string;
  signal?: AbortSignal;
  /** Called at each pause (after it is recorded), e.g. to abort after so many. */
  onSleep?: (count: number) => void;
  /** How a pause passes (default: at once); a real sandbox needs real pauses between polls. */
  pause?: (ms: number) => Promise<void>;
}

/** Runs `argv` as `ses-identity-verifier` would, with waits that return at once. */
export async function runCapture(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const signal = options.signal ?? new AbortController().signal;
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    signal,
    sleep: async (ms, sleepSignal) => {
      sleeps.push(ms);
      options.onSleep?.(sleeps.length);
      // A tick, so that the loop yields; then an abort is honoured as the real sleep would.
      await (options.pause?.(ms) ?? new Promise((resolve) => setImmediate(resolve)));
      if (sleepSignal.aborted) throw sleepSignal.reason;
    },
    readStdin: async () => options.stdin ?? '',
    ...(options.answer !== undefined && { ask: async () => options.answer as string }),
  });
  return { code, stdout, stderr, sleeps };
}

export interface ReceivedRequest {
  method: string;
  /** The path and query exactly as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeApi {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** An HTTP server answering each request with `reply(request)`. */
export async function startFakeApi(
  reply: (request: ReceivedRequest, index: number) => Reply | Promise<Reply>,
): Promise<FakeApi> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const answer = await reply(request, requests.length - 1);
      const body =
        answer.body === undefined
          ? ''
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `{"success": true, "data": ...}` */
export const ok = (data: unknown, status = 200): Reply => ({
  status,
  body: { success: true, data },
});

/** `{"success": false, "error": ...}` */
export const apiError = (
  status: number,
  code: string,
  message: string,
  details?: { field: string; message: string }[],
  headers?: Record<string, string>,
): Reply => ({
  status,
  body: { success: false, error: { code, message, ...(details && { details }) } },
  ...(headers && { headers }),
});
