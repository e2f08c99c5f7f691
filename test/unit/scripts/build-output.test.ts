import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleInto, HANDLER_MODULE } from '#scripts/build.js';
import { loadTemplate } from '#scripts/validate-cfn-yaml.js';

/**
 * Runs `script` (an ES module) in a Node process started as the template starts a Lambda: its
 * Globals' NODE_OPTIONS, a handler module at `BUILT`, and stand-in credentials. Returns the last
 * line the script printed, parsed, and the lines before it (the function's logs).
 */
function runInLambdaLikeNode(
  outdir: string,
  script: string,
  env: Record<string, string> = {},
): { seen: Record<string, unknown>; logs: string } {
  const nodeOptions = String(
    (
      loadTemplate('template.yaml').Globals?.Function as {
        Environment?: { Variables?: Record<string, unknown> };
      }
    )?.Environment?.Variables?.NODE_OPTIONS ?? '',
  );
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }),
      BUILT: join(outdir, `${HANDLER_MODULE}.mjs`),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_METRICS_NAMESPACE: 'SesIdentityVerifier',
      POWERTOOLS_SERVICE_NAME: 'ses-identity-verifier',
      ...env,
    },
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  return {
    seen: JSON.parse(lines.pop() ?? '') as Record<string, unknown>,
    logs: lines.join('\n'),
  };
}

const PROBE_PRELUDE = `
import { createRequire } from 'node:module';
const { handler } = await import(process.env.BUILT);
const context = { functionName: 'describe-failure', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 30000 };
const tr46Loaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.endsWith('/on-first-call/tr46.cjs'));
const identityOf = async (EmailIdentity) =>
  (await handler({ request: { EmailIdentity }, error: { Error: 'States.Timeout' } }, context)).identity;
`;

describe('a built Lambda (describe-failure, as npm run build makes it)', () => {
  let outdir: string;
  let metafile: Metafile;
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'built-lambda-'));
    metafile = await bundleInto(
      'functions/steps/describe-failure/handler.ts',
      join(outdir, 'describe-failure'),
    );
    outdir = join(outdir, 'describe-failure');
  }, 120_000);
  afterAll(() => rmSync(join(outdir, '..'), { recursive: true, force: true }));

  it('loads the IDNA tables only when a name is not plain ASCII, and then normalises it as the sources do', () => {
    const { seen } = runInLambdaLikeNode(
      outdir,
      `${PROBE_PRELUDE}
const atColdStart = tr46Loaded();
const ascii = await identityOf('Mail.Example.COM');
const afterAscii = tr46Loaded();
const unicode = await identityOf('Bücher.example');
console.log(JSON.stringify({ atColdStart, ascii, afterAscii, unicode, afterUnicode: tr46Loaded() }));`,
    );
    expect(seen).toEqual({
      atColdStart: false,
      ascii: 'mail.example.com',
      afterAscii: false,
      unicode: 'xn--bcher-kva.example',
      afterUnicode: true,
    });
  });

  it('finds what it loads on first call through its package.json, as Lambda runs the folder', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'package.json'), 'utf8'));
    expect(manifest.imports).toEqual({ '#on-first-call/tr46': './on-first-call/tr46.cjs' });
    for (const file of Object.values(manifest.imports as Record<string, string>)) {
      expect(existsSync(join(outdir, file))).toBe(true);
    }
  });

  it('holds no X-Ray SDK: a function that makes no AWS call is not wrapped with the tracer', () => {
    const packages = Object.keys(metafile.inputs).filter((input) =>
      /node_modules\/(?:aws-xray-sdk-core|cls-hooked|@aws-lambda-powertools\/tracer)\//.test(input),
    );
    expect(packages).toEqual([]);
  });

  it('loads node:crypto and the web streams only when used: to sample debug logs, to stream a response', () => {
    const probe = `${PROBE_PRELUDE}
const loaded = () => ['crypto', 'stream/web'].filter((name) => process.moduleLoadList.includes('NativeModule ' + name));
const atColdStart = loaded();
const identity = await identityOf('example.com');
console.log(JSON.stringify({ atColdStart, identity, afterCall: loaded() }));`;
    expect(runInLambdaLikeNode(outdir, probe).seen).toEqual({
      atColdStart: [],
      identity: 'example.com',
      afterCall: [],
    });

    // Sampled at cold start: the logger draws its random number, through node:crypto.
    const sampled = runInLambdaLikeNode(
      outdir,
      `${PROBE_PRELUDE}
console.log(JSON.stringify({ atColdStart: process.moduleLoadList.includes('NativeModule crypto') }));`,
      { POWERTOOLS_LOGGER_SAMPLE_RATE: '1' },
    );
    expect(sampled.seen).toEqual({ atColdStart: true });
    expect(sampled.logs).toContain('Setting log level to DEBUG due to sampling rate');
  });

  it("logs a thrown error's stack with our TypeScript file and line, reading the map only once one is formatted", () => {
    const source = readFileSync('functions/steps/describe-failure/describe-failure.ts', 'utf8');
    const throwingLine = source.split('\n').findIndex((line) => line.includes('state.error?.')) + 1;
    const { seen } = runInLambdaLikeNode(
      outdir,
      `import fs from 'node:fs';
const readFileSync = fs.readFileSync;
const mapsRead = [];
fs.readFileSync = function (path, ...rest) {
  if (String(path).startsWith(process.env.OUTDIR) && String(path).endsWith('.map')) mapsRead.push(String(path).slice(process.env.OUTDIR.length + 1));
  return readFileSync.call(this, path, ...rest);
};
${PROBE_PRELUDE}
const atColdStart = [...mapsRead];
const failed = await handler(null, context).catch((error) => error);
const thrownUnread = [...mapsRead];
const stack = String(failed.stack);
const afterFormatting = [...mapsRead];
const again = await handler(null, context).catch((error) => String(error.stack));
console.log(JSON.stringify({ atColdStart, thrownUnread, stack, afterFormatting, again, afterTwo: mapsRead }));`,
      { OUTDIR: outdir },
    );
    expect(seen).toMatchObject({
      atColdStart: [],
      thrownUnread: [],
      afterFormatting: ['index.mjs.map'],
      afterTwo: ['index.mjs.map'],
    });
    expect(seen.stack).toMatch(/^TypeError: /);
    const ourFrames = (stack: unknown) => String(stack).split('\n').slice(0, 3);
    expect(ourFrames(seen.again)).toEqual(ourFrames(seen.stack));
    expect(String(seen.stack).split('\n')[1]).toMatch(
      new RegExp(
        `^    at describeFailure \\(/.*/functions/steps/describe-failure/describe-failure\\.ts:${throwingLine}:\\d+\\)$`,
      ),
    );
  });

  it.each([
    ['installs its formatter of stack traces', {}, true],
    [
      'leaves the formatting to Node under --enable-source-maps',
      { NODE_OPTIONS: '--enable-source-maps' },
      false,
    ],
  ])('%s', (_, env: Record<string, string>, replaced) => {
    const { seen } = runInLambdaLikeNode(
      outdir,
      `const nodes = Error.prepareStackTrace;
${PROBE_PRELUDE}
console.log(JSON.stringify({ replaced: Error.prepareStackTrace !== nodes }));`,
      env,
    );
    expect(seen).toEqual({ replaced });
  });
});

describe('the request schema in built Lambdas', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'built-lambdas-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The source files and packages a function's bundle holds, as esbuild's metafile names them. */
  async function bundledInputs(folder: string): Promise<string[]> {
    const name = folder.split('/').pop() ?? folder;
    const metafile = await bundleInto(join(folder, 'handler.ts'), join(root, name));
    return Object.keys(metafile.inputs);
  }

  // Each validates no request body: they need the name check, not the schema and zod with it.
  it.each([
    'functions/api/check-identity',
    'functions/api/get-identity-status',
    'functions/api/list-identities',
    'functions/api/offboard-identity',
    'functions/jobs/sweeper',
  ])(
    'leaves zod and the request schema out of %s',
    async (folder) => {
      const inputs = await bundledInputs(folder);
      expect(
        inputs.filter((input) => /node_modules\/zod\/|request\/schema\.ts$/.test(input)),
      ).toEqual([]);
    },
    120_000,
  );

  it('bundles zod/mini, never zod classic, where a request is validated', async () => {
    const inputs = await bundledInputs('functions/api/start-verification');
    expect(inputs).toContain('functions/shared/request/schema.ts');
    expect(inputs.some((input) => input.includes('node_modules/zod/v4/mini/'))).toBe(true);
    expect(inputs.filter((input) => input.includes('node_modules/zod/v4/classic/'))).toEqual([]);
  }, 120_000);
});
