#!/usr/bin/env node
// `npx ses-identity-verifier <command>` in a clone after `npm ci`: the TypeScript runs through
// tsx's loader, registered in this process, so there is no build step and no stale build.
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: interrupt.signal,
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
  readStdin: async () => {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  },
  ...(process.stdin.isTTY && {
    ask: async (question) => {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
  }),
});
process.exitCode = code;
