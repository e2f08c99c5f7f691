/**
 * The local console's routes on the sandbox's API server: the page itself (static files, and
 * the page's script bundled from TypeScript on first request with the esbuild the project
 * builds its Lambdas with), and the JSON it reads that the API does not serve: the state
 * machine's definition, and the executions with their histories.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { VirtualClock } from '#sandbox/clock.js';
import type { LocalStateMachine } from '#sandbox/engine/executions.js';
import { summarizeExecution, viewExecution } from './execution-view.js';

/** What a sandbox page answers. */
export interface PageReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface ConsolePage {
  method: 'GET';
  path: string;
  page: (request: { url: URL }, parameters: Record<string, string>) => Promise<PageReply>;
}

const json = (status: number, body: unknown): PageReply => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const notFound = (message: string) =>
  json(404, { success: false, error: { code: 'NOT_FOUND', message } });

const folder = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** The page's files, by the name they are served under. */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  'index.html': { file: 'public/index.html', type: 'text/html; charset=utf-8' },
  'console.css': { file: 'public/console.css', type: 'text/css; charset=utf-8' },
};

let bundle: Promise<string> | undefined;

/**
 * The page's script: client/main.ts and what it imports (the graph layout, the key guard),
 * bundled once per process. esbuild's synchronous API runs it in a child process without
 * timers, which the sandbox's virtual clock would otherwise own.
 */
function clientBundle(): Promise<string> {
  if (!bundle) {
    bundle = import('esbuild').then((esbuild) => {
      const result = esbuild.buildSync({
        entryPoints: [folder('./client/main.ts')],
        bundle: true,
        format: 'esm',
        target: 'es2022',
        write: false,
        sourcemap: 'inline',
        logLevel: 'silent',
      });
      return (result.outputFiles[0] as { text: string }).text;
    });
    // A failed build is tried again on the next request, not remembered.
    bundle.catch(() => {
      bundle = undefined;
    });
  }
  return bundle;
}

async function staticFile(name: string): Promise<PageReply> {
  if (name === 'app.js') {
    return {
      status: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
      body: await clientBundle(),
    };
  }
  const entry = STATIC_FILES[name];
  if (!entry) return notFound(`No file ${name} in the console`);
  return {
    status: 200,
    headers: { 'content-type': entry.type, 'cache-control': 'no-cache' },
    body: await readFile(folder(`./${entry.file}`), 'utf8'),
  };
}

/** The console's pages and JSON routes, for the API server's table. */
export function consoleRoutes(stateMachine: LocalStateMachine, clock: VirtualClock): ConsolePage[] {
  return [
    { method: 'GET', path: '/sandbox/console', page: () => staticFile('index.html') },
    {
      method: 'GET',
      path: '/sandbox/console/{file}',
      page: (_request, { file }) => staticFile(file as string),
    },
    {
      method: 'GET',
      path: '/sandbox/state-machine',
      page: async () =>
        json(200, {
          name: stateMachine.name,
          arn: stateMachine.arn,
          definition: JSON.parse(stateMachine.definitionText) as unknown,
        }),
    },
    {
      method: 'GET',
      path: '/sandbox/executions',
      page: async (request) => {
        const status = request.url.searchParams.get('status') ?? undefined;
        const identity = request.url.searchParams.get('identity') ?? undefined;
        const limit = Number(request.url.searchParams.get('limit') ?? Number.NaN);
        const executions = stateMachine
          .list()
          .map((execution) => summarizeExecution(execution, clock.now()))
          .filter((summary) => !status || summary.status === status)
          .filter((summary) => !identity || summary.identity === identity);
        return json(200, {
          executions:
            Number.isInteger(limit) && limit > 0 ? executions.slice(0, limit) : executions,
          total: executions.length,
        });
      },
    },
    {
      method: 'GET',
      path: '/sandbox/executions/{name}',
      page: async (_request, { name }) => {
        const execution = stateMachine.list().find((candidate) => candidate.name === name);
        if (!execution) return notFound(`No execution named ${name}`);
        return json(200, { execution: viewExecution(execution, clock.now()) });
      },
    },
  ];
}
