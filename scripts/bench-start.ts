/**
 * `npm start -- example.com`, start-up included, measured side by side with:
 *   - the same run without npm (`node scripts/start-sandbox.cjs cli`, what npm start runs);
 *   - that run without V8's code cache (its cache files deleted first: a first start after a
 *     build);
 *   - the run started from the TypeScript sources through tsx (how `npm start` ran before it
 *     had a bundle);
 *   - a bare `node -e 0`;
 *   - `npm start` and bare Node again without NODE_EXTRA_CA_CERTS, when the machine sets it;
 *   - `npm start` and bare Node on Node 22 (npm and the sandbox both, through PATH), the line
 *     Lambda runs and a supported one: Node 20 reached its end of life on 2026-04-30
 *     (github.com/nodejs/Release). Node 22 comes as in scripts/bench-cold-start.ts.
 * Each round runs all of them, in shuffled order, so the machine's other load falls on each;
 * prints the medians of wall time, CPU time (user and system, from the kernel's count of reaped
 * children) and the ratio of each round's pairs, with the machine and its load average, and
 * where the bundle's wall time goes, phase by phase (its SANDBOX_TIMINGS line on stderr).
 * Usage: `npx tsx scripts/bench-start.ts [rounds]` (default 7).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { node22 } from './lib/node22.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const VARIANTS = {
  npm: [npm, 'start', '--', 'example.com'],
  bundle: [process.execPath, 'scripts/start-sandbox.cjs', 'cli', 'example.com'],
  uncached: [process.execPath, 'scripts/start-sandbox.cjs', 'cli', 'example.com'],
  tsx: [process.execPath, 'node_modules/tsx/dist/cli.mjs', 'sandbox/cli.ts', 'example.com'],
  bare: [process.execPath, '-e', '0'],
  npmWithoutExtraCa: [npm, 'start', '--', 'example.com'],
  bareWithoutExtraCa: [process.execPath, '-e', '0'],
  npmOnNode22: [npm, 'start', '--', 'example.com'],
  bareOnNode22: ['node 22', '-e', '0'],
} as const;
/**
 * The variants run without NODE_EXTRA_CA_CERTS. When it is set, Node 20 reads the certificates at
 * every start (about 40 ms here; Node 22's start does not), npm's Node and the sandbox's alike,
 * though the sandbox makes no TLS connection. Where this machine sets it, these show what a
 * machine that does not gets.
 */
const WITHOUT_EXTRA_CA: ReadonlySet<string> = new Set(['npmWithoutExtraCa', 'bareWithoutExtraCa']);
/** The variants run with Node 22 first on PATH: npm's `node` and the script's are Node 22's. */
const ON_NODE_22: ReadonlySet<string> = new Set(['npmOnNode22', 'bareOnNode22']);
/** Where scripts/start-sandbox.cjs keeps this Node's bundle and V8's code cache of it. */
const BUNDLE_DIR = join('node_modules/.cache/ses-identity-verifier/sandbox', process.version);

/** Deletes the CLI bundle's code cache: the next start compiles it, and writes it again. */
function deleteCodeCache(): void {
  for (const file of readdirSync(BUNDLE_DIR)) {
    if (file.startsWith('cli.') && file.endsWith('.code-cache')) rmSync(join(BUNDLE_DIR, file));
  }
}
type Variant = keyof typeof VARIANTS;

/** CPU seconds of this process's reaped children (Linux /proc; undefined elsewhere). */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; cutime and
    // cstime are fields 16 and 17, in clock ticks (100 a second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

interface Run {
  wallMs: number;
  cpuMs: number | undefined;
  /** The phases' ends, ms since the process started (the bundle's SANDBOX_TIMINGS line). */
  phases?: [string, number][];
}

/** Parses `Timings, ms since the process started: label 12, label 34, ...` from stderr. */
function phasesIn(stderr: string): [string, number][] | undefined {
  const line = /^Timings, ms since the process started: (.*)$/m.exec(stderr)?.[1];
  return line?.split(', ').map((part) => {
    const at = part.lastIndexOf(' ');
    return [part.slice(0, at), Number(part.slice(at + 1))];
  });
}

/** The Node 22 binary, found (or installed) once, before anything is timed. */
let node22Binary: string | undefined;

function runOnce(variant: Variant): Run {
  const [command, ...args] = VARIANTS[variant];
  if (variant === 'uncached') deleteCodeCache();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SANDBOX_BUNDLE_QUIET: '1',
    SANDBOX_TIMINGS: '1',
  };
  if (WITHOUT_EXTRA_CA.has(variant)) delete env.NODE_EXTRA_CA_CERTS;
  let program: string = command;
  if (ON_NODE_22.has(variant)) {
    node22Binary ??= node22();
    env.PATH = `${dirname(node22Binary)}${delimiter}${env.PATH ?? ''}`;
    if (variant === 'bareOnNode22') program = node22Binary;
  }
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const result = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const wallMs = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`${variant} exited ${result.status}: ${result.stderr.toString().slice(-500)}`);
  }
  const cpuAfter = childrenCpuSeconds();
  const phases = phasesIn(result.stderr.toString());
  return {
    ...(phases && { phases }),
    wallMs,
    cpuMs:
      cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) * 1000,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** Runs the rounds; resolves to the medians. */
export function benchStart(rounds: number) {
  // The bundle builds on first use, once per Node version; that build is not what a start
  // costs afterwards.
  runOnce('bundle');
  runOnce('npmOnNode22');
  const variants = Object.keys(VARIANTS) as Variant[];
  const samples = Object.fromEntries(variants.map((variant) => [variant, [] as Run[]])) as Record<
    Variant,
    Run[]
  >;
  const pairs: [Variant, Variant][] = [
    ['npm', 'bundle'],
    ['bundle', 'uncached'],
    ['bundle', 'tsx'],
    ['npm', 'bare'],
    ['npmWithoutExtraCa', 'npm'],
    ['npmOnNode22', 'npm'],
  ];
  const ratios = new Map(
    pairs.map((pair) => [pair.join('/'), { wall: [] as number[], cpu: [] as number[] }]),
  );
  for (let round = 0; round < rounds; round++) {
    // The uncached run goes right before the bundle's, so that the bundle's meets a cache made
    // by a run like itself.
    const order: Variant[] = variants
      .filter((variant) => variant !== 'bundle')
      .sort(() => Math.random() - 0.5);
    order.splice(order.indexOf('uncached') + 1, 0, 'bundle');
    const round_ = Object.fromEntries(
      order.map((variant) => [variant, runOnce(variant)]),
    ) as Record<Variant, Run>;
    for (const variant of variants) samples[variant].push(round_[variant]);
    for (const [top, bottom] of pairs) {
      const ratio = ratios.get(`${top}/${bottom}`);
      ratio?.wall.push(round_[top].wallMs / round_[bottom].wallMs);
      const [a, b] = [round_[top].cpuMs, round_[bottom].cpuMs];
      if (a !== undefined && b !== undefined) ratio?.cpu.push(a / b);
    }
  }
  const summary = (variant: Variant) => {
    const cpu = samples[variant].map((sample) => sample.cpuMs).filter((ms) => ms !== undefined);
    return {
      wall_ms: Math.round(median(samples[variant].map((sample) => sample.wallMs))),
      cpu_ms: cpu.length > 0 ? Math.round(median(cpu)) : null,
    };
  };
  // Where the bundle's time goes: each phase's median length, the first from a bare Node start.
  const labels = samples.bundle[0]?.phases?.map(([label]) => label) ?? [];
  const phaseEnds = (index: number) =>
    samples.bundle.map((run) => run.phases?.[index]?.[1] ?? Number.NaN);
  const breakdown: Record<string, number> = {
    'node start (node -e 0, same rounds)': Math.round(median(samples.bare.map((r) => r.wallMs))),
  };
  labels.forEach((label, index) => {
    const ends = phaseEnds(index);
    const lengths =
      index === 0
        ? ends.map((end, round) => end - (samples.bare[round]?.wallMs ?? 0))
        : ends.map((end, round) => end - (phaseEnds(index - 1)[round] ?? 0));
    breakdown[index === 0 ? `${label} (less node start)` : label] = Math.round(median(lengths));
  });
  breakdown['exit (wall less the last phase)'] = Math.round(
    median(samples.bundle.map((run) => run.wallMs - (run.phases?.at(-1)?.[1] ?? run.wallMs))),
  );
  return {
    command: 'npm start -- example.com, start-up included',
    rounds,
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`,
    load_average: os.loadavg().map((load) => Number(load.toFixed(2))),
    npm_start: summary('npm'),
    bundle: summary('bundle'),
    bundle_without_code_cache: summary('uncached'),
    tsx: summary('tsx'),
    bare_node: summary('bare'),
    node_extra_ca_certs: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'not set',
    npm_start_without_node_extra_ca_certs: summary('npmWithoutExtraCa'),
    bare_node_without_node_extra_ca_certs: summary('bareWithoutExtraCa'),
    npm_start_on_node_22: summary('npmOnNode22'),
    bare_node_22: summary('bareOnNode22'),
    bundle_phases_ms: breakdown,
    ratios: Object.fromEntries(
      [...ratios].map(([pair, { wall, cpu }]) => [
        pair
          .replace('uncached', 'without code cache')
          .replace('WithoutExtraCa', ' without NODE_EXTRA_CA_CERTS')
          .replace('OnNode22', ' on Node 22'),
        {
          wall: Number(median(wall).toFixed(2)),
          cpu: cpu.length > 0 ? Number(median(cpu).toFixed(2)) : null,
        },
      ]),
    ),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(benchStart(Number(process.argv[2] ?? 7)), null, 2)}\n`);
}
