/**
 * `npm start -- example.com`, start-up included, measured side by side with the same run started
 * from the TypeScript sources through tsx (how `npm start` ran before it had a bundle), and a bare
 * `node -e 0`: each round runs all three, in shuffled order, so the machine's other load falls
 * on each; prints the medians of wall time, CPU time (user and system, from the kernel's count of
 * reaped children) and the ratio of each round's pair, with the machine and its load average,
 * and where the bundle's wall time goes, phase by phase (its SANDBOX_TIMINGS line on stderr).
 * Usage: `npx tsx scripts/bench-start.ts [rounds]` (default 7).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const VARIANTS = {
  bundle: [process.execPath, 'scripts/start-sandbox.mjs', 'cli', 'example.com'],
  tsx: [process.execPath, 'node_modules/tsx/dist/cli.mjs', 'sandbox/cli.ts', 'example.com'],
  bare: [process.execPath, '-e', '0'],
} as const;
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

function runOnce(variant: Variant): Run {
  const [command, ...args] = VARIANTS[variant];
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SANDBOX_BUNDLE_QUIET: '1', SANDBOX_TIMINGS: '1' },
  });
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
  // The bundle builds on first use; that build is not what a start costs afterwards.
  runOnce('bundle');
  const samples: Record<Variant, Run[]> = { bundle: [], tsx: [], bare: [] };
  const ratios: { wall: number[]; cpu: number[] } = { wall: [], cpu: [] };
  for (let round = 0; round < rounds; round++) {
    const order = (Object.keys(VARIANTS) as Variant[]).sort(() => Math.random() - 0.5);
    const pair = Object.fromEntries(order.map((variant) => [variant, runOnce(variant)])) as Record<
      Variant,
      Run
    >;
    samples.bundle.push(pair.bundle);
    samples.tsx.push(pair.tsx);
    samples.bare.push(pair.bare);
    ratios.wall.push(pair.bundle.wallMs / pair.tsx.wallMs);
    if (pair.bundle.cpuMs !== undefined && pair.tsx.cpuMs !== undefined) {
      ratios.cpu.push(pair.bundle.cpuMs / pair.tsx.cpuMs);
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
    bundle: summary('bundle'),
    tsx: summary('tsx'),
    bundle_phases_ms: breakdown,
    bundle_over_tsx: {
      wall: Number(median(ratios.wall).toFixed(2)),
      cpu: ratios.cpu.length > 0 ? Number(median(ratios.cpu).toFixed(2)) : null,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(benchStart(Number(process.argv[2] ?? 7)), null, 2)}\n`);
}
