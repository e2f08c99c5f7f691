/**
 * `npm run bench`: each Lambda's cold import on Node 22, the runtime template.yaml names, against
 * two baselines measured in the same rounds:
 *   - its floor: a bundle that only creates the SDK clients the function uses, built with the same
 *     settings (scripts/build.ts) and run with the same NODE_OPTIONS;
 *   - bare node: `node -e 0`.
 * Every round runs every process once, in a new shuffled order. Each ratio is taken within a
 * round (ours and its floor side by side) and the median of those ratios is printed, so load from
 * other work on the machine falls on both sides of a ratio alike. Nothing here is asserted.
 *
 * The processes get a Lambda-like environment and nothing of this shell's: stand-in credentials
 * and the region in variables, as Lambda gives them; AWS_EXECUTION_ENV and LAMBDA_TASK_ROOT, so
 * Powertools' tracer and the X-Ray SDK are on, as with the template's active tracing; and each
 * function's variables from template.yaml.
 *
 * A second table prices the choices on the function that loads the most code, against the same
 * bundle with no stack traces mapped: as shipped (mapped when a stack is formatted, by the
 * bundle); `--enable-source-maps` instead, with maps of our code only (before), of all code, with
 * the sources; the X-Ray tracer; tr46 and semver loaded at cold start rather than on first call
 * (scripts/build.ts). A third prices, on the function that makes no AWS call, what it was built
 * with before: `--enable-source-maps`, the X-Ray tracer, and the built-ins that now load on first
 * use.
 *
 * Usage: `npx tsx scripts/bench-cold-start.ts [rounds]` (default 15). BENCH_NODE=/path/to/node
 * measures another binary; otherwise Node 22 comes from the npm registry (`node-<os>-<arch>`) into
 * node_modules/.cache on first use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, type as osType, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync, type Metafile, type Plugin } from 'esbuild';
import { bundleInto, HANDLER_MODULE, outputFolderOf, sourceFolderOf } from './build.js';
import { functionFolders } from './lib/function-folders.js';
import { node22 } from './lib/node22.js';
import { type CfnTemplate, type Json, loadTemplate, resourcesOfType } from './validate-cfn-yaml.js';

const CACHE = resolve('node_modules/.cache/bench-cold-start');

// ------------------------------------------------------------------------------------------
// What each function is: its SDK clients, its environment, what its cold start loads
// ------------------------------------------------------------------------------------------

const CLIENT_IMPORT = /import\s*\{([^}]*)\}\s*from\s*"(@aws-sdk\/(?:client-[^"]+|lib-dynamodb))"/g;

/**
 * The SDK client classes each handler uses: the `…Client` names its code imports from
 * `@aws-sdk/client-*` and `@aws-sdk/lib-dynamodb` and still refers to once esbuild has shaken it.
 */
function clientsOf(handlerFiles: string[]): Map<string, Map<string, string>> {
  const result = buildSync({
    entryPoints: handlerFiles,
    bundle: true,
    write: false,
    metafile: true,
    outdir: join(CACHE, 'clients'),
    packages: 'external',
    platform: 'node',
    target: 'node22',
    format: 'esm',
    logLevel: 'silent',
  });
  const byHandler = new Map<string, Map<string, string>>();
  for (const [outputPath, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint === undefined) continue;
    const code = result.outputFiles.find((file) => file.path === resolve(outputPath))?.text ?? '';
    const body = code.replace(/^import\s[^;]*;$/gm, '');
    const clients = new Map<string, string>();
    for (const [, names = '', pkg = ''] of code.matchAll(CLIENT_IMPORT)) {
      for (const specifier of names.split(',')) {
        const [imported = '', local = imported] = specifier.trim().split(/\s+as\s+/);
        if (/Client$/.test(imported) && new RegExp(`\\b${local}\\b`).test(body)) {
          clients.set(imported, pkg);
        }
      }
    }
    byHandler.set(resolve(output.entryPoint), clients);
  }
  return byHandler;
}

/** The floor's entry module: each client created once, at module scope, as ours are. */
function floorSource(clients: Map<string, string>): string {
  const lines: string[] = [];
  const made: string[] = [];
  for (const [name, pkg] of [...clients].sort()) {
    lines.push(`import { ${name} } from '${pkg}';`);
    if (name !== 'DynamoDBDocumentClient') made.push(`new ${name}({})`);
  }
  if (clients.has('DynamoDBDocumentClient')) {
    const inner = made.indexOf('new DynamoDBClient({})');
    made.splice(inner, 1, 'DynamoDBDocumentClient.from(new DynamoDBClient({}))');
  }
  lines.push(`export const clients = [${made.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

/** A template value as text: literals as they are, parameters at their defaults. */
function resolveValue(template: CfnTemplate, value: Json): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'Ref' in value) {
    const parameter = template.Parameters?.[String(value.Ref)];
    if (parameter !== undefined) return String(parameter.Default ?? '');
  }
  // A resource's name or ARN, known only once deployed: any non-empty text stands for it.
  return 'bench-placeholder';
}

/** Globals' variables from template.yaml, then each function's own, by source folder. */
function templateEnvironments(template: CfnTemplate): {
  globals: Record<string, string>;
  byFolder: Map<string, Record<string, string>>;
} {
  const variablesOf = (holder: Json | undefined): Record<string, string> => {
    const variables = ((holder as { Environment?: { Variables?: Record<string, Json> } })
      ?.Environment?.Variables ?? {}) as Record<string, Json>;
    return Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [key, resolveValue(template, value)]),
    );
  };
  const globals = variablesOf(template.Globals?.Function);
  const byFolder = new Map<string, Record<string, string>>();
  for (const [, fn] of resourcesOfType(template, 'AWS::Serverless::Function')) {
    const folder = sourceFolderOf(String(fn.Properties?.CodeUri ?? ''));
    if (folder !== undefined) byFolder.set(folder, { ...globals, ...variablesOf(fn.Properties) });
  }
  return { globals, byFolder };
}

/** The variables Lambda sets in every execution environment, with stand-in credentials. */
function lambdaEnvironment(name: string, taskRoot: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench-stand-in-key-id',
    AWS_SECRET_ACCESS_KEY: 'bench-only-not-a-credential',
    AWS_SESSION_TOKEN: 'bench-only-not-a-token',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    LAMBDA_TASK_ROOT: resolve(taskRoot),
    _HANDLER: `${HANDLER_MODULE}.handler`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * What a cold start loads: the entry module and the chunks it imports statically (the chunks
 * behind a dynamic import() load only if that code runs). Bytes in all, and by package.
 */
function loadedCode(
  metafile: Metafile,
  outdir: string,
): { bytes: number; byPackage: Map<string, number> } {
  const outputs = metafile.outputs;
  const handlerModule = resolve(outdir, `${HANDLER_MODULE}.mjs`);
  const entry = Object.keys(outputs).find((path) => resolve(path) === handlerModule);
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path) || outputs[path] === undefined) return;
    loaded.add(path);
    for (const imported of outputs[path].imports) {
      if (imported.kind === 'import-statement') visit(imported.path);
    }
  };
  if (entry !== undefined) visit(entry);
  let bytes = 0;
  const byPackage = new Map<string, number>();
  for (const path of loaded) {
    const output = outputs[path];
    if (output === undefined) continue;
    bytes += output.bytes;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const owner =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ??
        (input.startsWith('functions/') ? 'our code' : 'esbuild runtime');
      byPackage.set(owner, (byPackage.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return { bytes, byPackage };
}

/**
 * The Powertools tracer replaced by a pass-through with the same surface (it returns clients as
 * given and adds no middleware step): what the X-Ray tracer costs a cold start. Only measured.
 */
const withoutTracer: Plugin = {
  name: 'without-tracer',
  setup(build) {
    build.onResolve({ filter: /^@aws-lambda-powertools\/tracer(\/middleware)?$/ }, (args) => ({
      path: args.path,
      namespace: 'tracer-stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'tracer-stub' }, (args) => ({
      contents: args.path.endsWith('/middleware')
        ? 'export const captureLambdaHandler = () => ({ before: () => {} });'
        : 'export class Tracer { captureAWSv3Client(client) { return client; } }',
      loader: 'js',
    }));
  },
};

/**
 * A handler wrapped with untracedLambdaHandler wrapped with lambdaHandler instead, the X-Ray
 * tracer with it: what leaving the tracer out saved a function that makes no AWS call.
 */
const withTracer: Plugin = {
  name: 'with-tracer',
  setup(build) {
    build.onResolve({ filter: /^#shared\/runtime\/logs-and-metrics\.js$/ }, (args) =>
      args.importer.endsWith('handler.ts')
        ? { path: args.path, namespace: 'with-tracer' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'with-tracer' }, () => ({
      contents:
        "export { logger, metrics, lambdaHandler as untracedLambdaHandler } from './observability.js';",
      loader: 'js',
      resolveDir: resolve('functions/shared/runtime'),
    }));
  },
};

// ------------------------------------------------------------------------------------------
// Measuring
// ------------------------------------------------------------------------------------------

interface Job {
  id: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * A module each measured process loads first (`node -r`): as the process exits it writes its own
 * CPU time (user and system, `process.cpuUsage()`, in microseconds) to file descriptor 3. The
 * kernel's count for reaped children is in 10 ms ticks, coarse against starts of 80 to 250 ms:
 * a tick moved a ratio by about 0.05×. Every process measured loads it, bare node too.
 */
const CPU_REPORTER = join(CACHE, 'cpu-at-exit.cjs');
function writeCpuReporter(): void {
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(
    CPU_REPORTER,
    "process.on('exit', () => { try { const { user, system } = process.cpuUsage(); require('node:fs').writeSync(3, String(user + system)); } catch {} });\n",
  );
}

interface Sample {
  wall: number;
  /** NaN where the process did not say. */
  cpu: number;
}

/**
 * Wall and CPU time of one process, in milliseconds; a process that fails stops the benchmark.
 * CPU time is what load from other work changes least: a process waiting for a core spends
 * wall time, not CPU time. It leaves out what the process spends after its exit handlers (the
 * heap's teardown), alike for every process.
 */
function timeOnce(node: string, job: Job): Sample {
  const start = performance.now();
  const run = spawnSync(node, ['-r', CPU_REPORTER, ...job.args], {
    env: job.env,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const wall = performance.now() - start;
  if (run.status !== 0) {
    throw new Error(`${job.id} exited with ${run.status}: ${run.stderr?.toString().trim()}`);
  }
  const reported = Number(run.output[3]?.toString() || Number.NaN);
  return { wall, cpu: reported / 1000 };
}

/** A small seeded generator, so that every run shuffles the same way. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs every job once per round, in a new shuffled order each round, after a warm-up round. */
function measure(node: string, jobs: Job[], rounds: number): Map<string, Sample[]> {
  const random = mulberry32(22);
  const times = new Map<string, Sample[]>(jobs.map((job) => [job.id, []]));
  writeCpuReporter();
  for (const job of jobs) timeOnce(node, job);
  for (let round = 0; round < rounds; round++) {
    const order = [...jobs];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as Job, order[i] as Job];
    }
    for (const job of order) times.get(job.id)?.push(timeOnce(node, job));
    process.stderr.write(`\rround ${round + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  return times;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The median, over rounds, of a / b within each round. */
function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((value, round) => value / (b[round] as number)));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (values: number[]) => `${median(values).toFixed(0)} ms`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;

/** A Markdown table: the first `textColumns` columns left-aligned, the rest right-aligned. */
function printTable(header: string[], rows: string[][], textColumns = 1) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const cells = (row: string[]) =>
    row.map((cell, column) =>
      column < textColumns ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
    );
  const rule = widths.map((width, column) =>
    column < textColumns ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`,
  );
  for (const row of [cells(header), rule, ...rows.map(cells)]) {
    console.log(`| ${row.join(' | ')} |`);
  }
}

// ------------------------------------------------------------------------------------------

interface Measured {
  name: string;
  folder: string;
  outdir: string;
  floor: string;
  clients: string[];
  env: Record<string, string>;
  loaded: ReturnType<typeof loadedCode>;
}

/** Builds ours and the floors, measures them all side by side, prints the tables. */
export async function benchColdStart(rounds: number): Promise<void> {
  const node = node22();
  const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
  const template = loadTemplate('template.yaml');
  const { globals, byFolder } = templateEnvironments(template);
  const nodeOptions = globals.NODE_OPTIONS ?? '';
  const folders = functionFolders();
  const clients = clientsOf(folders.map((folder) => join(folder, 'handler.ts')));
  for (const part of ['ours', 'floors', 'variants']) {
    rmSync(join(CACHE, part), { recursive: true, force: true });
  }
  mkdirSync(join(CACHE, 'floors'), { recursive: true });

  process.stderr.write(`Building ${folders.length} functions and their floors\n`);
  const floors = new Map<string, string>();
  const functions: Measured[] = [];
  for (const folder of folders) {
    const name = basename(folder);
    const outdir = outputFolderOf(folder, join(CACHE, 'ours'));
    const metafile = await bundleInto(join(folder, 'handler.ts'), outdir);
    const used = clients.get(resolve(folder, 'handler.ts')) ?? new Map<string, string>();
    const floor = [...used.keys()].sort().join('+') || 'no-clients';
    if (!floors.has(floor)) {
      const entry = join(CACHE, 'floors', `${floor}.ts`);
      writeFileSync(entry, floorSource(used));
      await bundleInto(entry, join(CACHE, 'floors', floor));
      floors.set(floor, join(CACHE, 'floors', floor));
    }
    functions.push({
      name,
      folder,
      outdir,
      floor,
      clients: [...used.keys()].sort(),
      env: { ...lambdaEnvironment(name, outdir), ...(byFolder.get(folder) ?? globals) },
      loaded: loadedCode(metafile, outdir),
    });
  }

  const entryOf = (outdir: string) => join(outdir, `${HANDLER_MODULE}.mjs`);
  const withNodeOptions = (env: Record<string, string>, options: string) => {
    const { NODE_OPTIONS: _, ...rest } = env;
    return options === '' ? rest : { ...rest, NODE_OPTIONS: options };
  };
  const jobs: Job[] = [{ id: 'bare', args: ['-e', '0'], env: lambdaEnvironment('bare', CACHE) }];
  for (const [floor, outdir] of floors) {
    const env = withNodeOptions(lambdaEnvironment(`floor-${floor}`, outdir), nodeOptions);
    jobs.push({ id: `floor:${floor}`, args: [entryOf(outdir)], env });
  }
  for (const fn of functions) {
    jobs.push({ id: `ours:${fn.name}`, args: [entryOf(fn.outdir)], env: fn.env });
  }

  // The choices, priced on the function whose cold start loads the most code.
  const largest = [...functions].sort((a, b) => b.loaded.bytes - a.loaded.bytes)[0];
  if (largest === undefined) throw new Error('No functions');
  const entry = join(largest.folder, 'handler.ts');
  const variantDir = (name: string) => join(CACHE, 'variants', name);
  // Node maps stack traces itself under --enable-source-maps; the formatter stays out of those.
  await bundleInto(entry, variantDir('unmapped'), { unmappedStackTraces: true });
  await bundleInto(entry, variantDir('whole-maps'), {
    mapDependencies: true,
    unmappedStackTraces: true,
  });
  await bundleInto(entry, variantDir('with-sources'), {
    mapDependencies: true,
    sourcesContent: true,
    unmappedStackTraces: true,
  });
  await bundleInto(entry, variantDir('without-tracer'), { plugins: [withoutTracer] });
  await bundleInto(entry, variantDir('tr46-in-bundle'), { eagerPackages: ['tr46'] });
  await bundleInto(entry, variantDir('semver-in-bundle'), { eagerPackages: ['semver'] });
  const variants = [
    {
      id: 'variant:unmapped',
      label: 'stack traces not mapped: they name bundle lines',
      outdir: variantDir('unmapped'),
      options: '',
    },
    {
      id: 'variant:shipped',
      label: `as shipped: maps of our code only, read when a stack is formatted, ${nodeOptions || 'no NODE_OPTIONS'}`,
      outdir: largest.outdir,
      options: nodeOptions,
    },
    {
      id: 'variant:flag',
      label: 'maps of our code only, --enable-source-maps (before)',
      outdir: variantDir('unmapped'),
      options: '--enable-source-maps',
    },
    {
      id: 'variant:whole-maps',
      label: 'maps of all code, without sources, --enable-source-maps',
      outdir: variantDir('whole-maps'),
      options: '--enable-source-maps',
    },
    {
      id: 'variant:with-sources',
      label: 'maps of all code, with sources, --enable-source-maps',
      outdir: variantDir('with-sources'),
      options: '--enable-source-maps',
    },
    {
      id: 'variant:without-tracer',
      label: 'as shipped, without the X-Ray tracer (Powertools Tracer stubbed)',
      outdir: variantDir('without-tracer'),
      options: nodeOptions,
    },
    {
      id: 'variant:tr46-in-bundle',
      label: 'as shipped, but tr46 bundled and evaluated at cold start (before)',
      outdir: variantDir('tr46-in-bundle'),
      options: nodeOptions,
    },
    {
      id: 'variant:semver-in-bundle',
      label: "as shipped, but the X-Ray SDK's semver bundled and evaluated at cold start (before)",
      outdir: variantDir('semver-in-bundle'),
      options: nodeOptions,
    },
  ];
  for (const variant of variants) {
    const env = withNodeOptions(largest.env, variant.options);
    jobs.push({ id: variant.id, args: [entryOf(variant.outdir)], env });
  }

  // What a function that makes no AWS call has beyond a bare start, priced the same way.
  const unclient = functions.find((fn) => fn.clients.length === 0);
  const bareVariants: { id: string; label: string; outdir: string; options: string }[] = [];
  if (unclient !== undefined) {
    const bareEntry = join(unclient.folder, 'handler.ts');
    await bundleInto(bareEntry, variantDir('bare-eager-builtins'), { eagerBuiltins: true });
    await bundleInto(bareEntry, variantDir('bare-with-tracer'), { plugins: [withTracer] });
    await bundleInto(bareEntry, variantDir('bare-unmapped'), { unmappedStackTraces: true });
    await bundleInto(bareEntry, variantDir('bare-before'), {
      eagerBuiltins: true,
      plugins: [withTracer],
      unmappedStackTraces: true,
    });
    bareVariants.push(
      {
        id: 'bare-variant:shipped',
        label: `as shipped: no tracer, stack traces mapped when formatted, ${nodeOptions || 'no NODE_OPTIONS'}`,
        outdir: unclient.outdir,
        options: nodeOptions,
      },
      {
        id: 'bare-variant:flag',
        label: 'as shipped, but mapped by --enable-source-maps (before)',
        outdir: variantDir('bare-unmapped'),
        options: '--enable-source-maps',
      },
      {
        id: 'bare-variant:unmapped',
        label: 'as shipped, but stack traces not mapped at all',
        outdir: variantDir('bare-unmapped'),
        options: '',
      },
      {
        id: 'bare-variant:eager-builtins',
        label: "as shipped, but the Logger's crypto and middy's streams loaded at cold start",
        outdir: variantDir('bare-eager-builtins'),
        options: nodeOptions,
      },
      {
        id: 'bare-variant:with-tracer',
        label: 'as shipped, but wrapped with the X-Ray tracer (lambdaHandler)',
        outdir: variantDir('bare-with-tracer'),
        options: nodeOptions,
      },
      {
        id: 'bare-variant:before',
        label: 'all: the tracer, crypto and streams at cold start, --enable-source-maps (before)',
        outdir: variantDir('bare-before'),
        options: '--enable-source-maps',
      },
    );
    for (const variant of bareVariants) {
      const env = withNodeOptions(unclient.env, variant.options);
      jobs.push({ id: variant.id, args: [entryOf(variant.outdir)], env });
    }
  }

  const loadBefore = loadavg()[0] ?? 0;
  process.stderr.write(`Measuring ${jobs.length} processes × ${rounds} rounds on ${nodeVersion}\n`);
  const measured = measure(node, jobs, rounds);
  const loadAfter = loadavg()[0] ?? 0;
  const samplesOf = (id: string) => measured.get(id) ?? [];
  const wallOf = (id: string) => samplesOf(id).map((sample) => sample.wall);
  const cpuOf = (id: string) => samplesOf(id).map((sample) => sample.cpu);
  const hasCpu = !cpuOf('bare').some(Number.isNaN);

  const cpu = cpus();
  console.log(
    `\nCold import of each Lambda on Node ${nodeVersion.slice(1)} (this process: Node ${process.versions.node}), ${rounds} rounds, medians; each ratio paired within a round`,
  );
  console.log(
    `Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, ${osType()}; load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end`,
  );
  console.log(`NODE_OPTIONS (template.yaml Globals): ${nodeOptions || '(none)'}`);
  console.log(
    'Wall: time to start, import and exit. CPU: user and system time of the process as it exits (its own count, in microseconds), which other load on the machine changes less.\n',
  );
  const wallToFloor: number[] = [];
  const wallToBare: number[] = [];
  const cpuToFloor: number[] = [];
  const cpuToBare: number[] = [];
  const rows = functions.map((fn) => {
    const ours = `ours:${fn.name}`;
    const floor = `floor:${fn.floor}`;
    const ratios = {
      wallFloor: pairedRatio(wallOf(ours), wallOf(floor)),
      wallBare: pairedRatio(wallOf(ours), wallOf('bare')),
      cpuFloor: pairedRatio(cpuOf(ours), cpuOf(floor)),
      cpuBare: pairedRatio(cpuOf(ours), cpuOf('bare')),
    };
    wallToFloor.push(ratios.wallFloor);
    wallToBare.push(ratios.wallBare);
    cpuToFloor.push(ratios.cpuFloor);
    cpuToBare.push(ratios.cpuBare);
    return [
      fn.name,
      fn.clients.map((client) => client.replace(/Client$/, '')).join(' ') || '(none)',
      kb(fn.loaded.bytes),
      ms(wallOf(ours)),
      ms(wallOf(floor)),
      ms(wallOf('bare')),
      times(ratios.wallFloor),
      times(ratios.wallBare),
      times(pairedRatio(wallOf(floor), wallOf('bare'))),
      ...(hasCpu ? [times(ratios.cpuFloor), times(ratios.cpuBare)] : []),
    ];
  });
  printTable(
    [
      'function',
      'SDK clients',
      'code loaded',
      'ours',
      'floor',
      'bare',
      'ours/floor',
      'ours/bare',
      'floor/bare',
      ...(hasCpu ? ['CPU ours/floor', 'CPU ours/bare'] : []),
    ],
    rows,
    2,
  );
  const summary = (toFloor: number[], toBare: number[]) =>
    `median ours/bare ${times(median(toBare))} (goal ≤ 3.5×); ours/floor from ${times(Math.min(...toFloor))} to ${times(Math.max(...toFloor))}, median ${times(median(toFloor))} (goal ≤ 1.3× each)`;
  console.log(`\nWall: ${summary(wallToFloor, wallToBare)}`);
  if (hasCpu) console.log(`CPU:  ${summary(cpuToFloor, cpuToBare)}`);

  console.log(`\nThe choices, on ${largest.name} (the most code loaded):`);
  printTable(
    [
      'build and flags',
      'cold import',
      '/ unmapped',
      '/ bare',
      ...(hasCpu ? ['CPU / unmapped', 'CPU / bare'] : []),
    ],
    variants.map((variant) => [
      variant.label,
      ms(wallOf(variant.id)),
      times(pairedRatio(wallOf(variant.id), wallOf('variant:unmapped'))),
      times(pairedRatio(wallOf(variant.id), wallOf('bare'))),
      ...(hasCpu
        ? [
            times(pairedRatio(cpuOf(variant.id), cpuOf('variant:unmapped'))),
            times(pairedRatio(cpuOf(variant.id), cpuOf('bare'))),
          ]
        : []),
    ]),
  );
  if (unclient !== undefined) {
    console.log(`\n${unclient.name}, which makes no AWS call (its floor is bare node):`);
    printTable(
      ['build and flags', 'cold import', '/ bare', ...(hasCpu ? ['CPU / bare'] : [])],
      bareVariants.map((variant) => [
        variant.label,
        ms(wallOf(variant.id)),
        times(pairedRatio(wallOf(variant.id), wallOf('bare'))),
        ...(hasCpu ? [times(pairedRatio(cpuOf(variant.id), cpuOf('bare')))] : []),
      ]),
    );
  }
  const packages = [...largest.loaded.byPackage].sort((a, b) => b[1] - a[1]).slice(0, 10);
  console.log(
    `\nWhat ${largest.name}'s cold start loads (${kb(largest.loaded.bytes)}), largest first: ${packages.map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ')}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchColdStart(Number(process.argv[2] ?? 15)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
