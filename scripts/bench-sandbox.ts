/**
 * Submits N identities (default 200) at once to the sandbox API, 64 requests in flight, and
 * waits for every run's terminal event; prints how the runs ended, the makespan on the virtual
 * clock (first POST to last terminal event), the SES calls served, throttled and failed (and per
 * identity), the sweeps, the POST latency, the wall and CPU time, the load average and the peak
 * resident memory. SES runs at its documented rate by default, one request per second per
 * operation: the workflow's SES request queue keeps to it, so every run should verify. Exit code
 * 1 when one did not, or a run was lost or duplicated. `SANDBOX_SES_RATE_LIMIT=0` measures the
 * sandbox without SES's rate. Usage: `npx tsx scripts/bench-sandbox.ts [N]`; with several sizes
 * (`200 1000 2000`), each runs in a process of its own and a table compares them.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { sesFaultsFromEnv } from '#sandbox/aws/create-emulators.js';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { startStack } from '#sandbox/stack.js';

const TERMINAL = new Set(['Email Identity Verified', 'Email Identity Verification Failed']);

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The value below which `share` of the values fall (nearest rank), rounded to a millisecond. */
function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(0, Math.ceil(share * sorted.length) - 1);
  return Math.round(sorted[rank] ?? 0);
}

/** Requests in flight at once, as a client's connection pool would allow. */
const POST_CONNECTIONS = 64;

/** Maps `items` through `work`, at most `limit` at a time, keeping their order. */
async function inParallel<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Runs the benchmark; resolves to its figures. */
export async function benchSandbox(count: number) {
  const bootStart = performance.now();
  const stack = await startStack({ sesFaults: sesFaultsFromEnv() });
  const bootMs = performance.now() - bootStart;
  try {
    const identities = Array.from({ length: count }, (_, i) => `bench-${i}.example.com`);
    const terminals: DeliveredEvent[] = [];
    let resolveAll!: () => void;
    const allDone = new Promise<void>((resolve) => {
      resolveAll = resolve;
    });
    const expected = new Set(identities);
    const seen = new Set<string>();
    stack.emulators.events.onEvent((event) => {
      if (!TERMINAL.has(event['detail-type'])) return;
      terminals.push(event);
      const identity = String(event.detail.identity);
      if (expected.has(identity)) seen.add(identity);
      if (seen.size === expected.size) resolveAll();
    });

    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const virtualStart = stack.clock.nowMs();
    let virtualEnd = virtualStart;
    stack.emulators.events.onEvent((event) => {
      if (TERMINAL.has(event['detail-type'])) virtualEnd = stack.clock.nowMs();
    });
    const latencies: number[] = [];
    let resent = 0;
    const post = async (identity: string) => {
      const sent = performance.now();
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(`${stack.apiUrl}/identities`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ EmailIdentity: identity }),
          });
          await response.arrayBuffer();
          latencies.push(performance.now() - sent);
          return response.status;
        } catch (error) {
          // A kept-alive connection the server closed as the request went out (a busy event
          // loop lets its keep-alive timer fire late). Sending the same request again is safe:
          // an identical POST returns the run it started and starts nothing new.
          if (attempt >= 3) throw error;
          resent += 1;
        }
      }
    };
    // Every request at once, through a client's pool of connections: a thousand sockets opened
    // together would wait in the listen backlog past fetch's 10-second connect time-out while
    // the runs already started keep the process busy.
    const responses = await inParallel(identities, POST_CONNECTIONS, post);
    await allDone;
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    const sesCalls = Object.fromEntries(
      Object.entries(stack.metrics.snapshot()).filter(
        ([operation, counts]) =>
          operation.startsWith('sesv2:') && counts.ok + counts.throttled + counts.failed > 0,
      ),
    );
    const sesTotal = Object.values(sesCalls).reduce(
      (sum, counts) => sum + counts.ok + counts.throttled + counts.failed,
      0,
    );
    const perIdentity = new Map<string, number>();
    for (const event of terminals) {
      const identity = String(event.detail.identity);
      perIdentity.set(identity, (perIdentity.get(identity) ?? 0) + 1);
    }
    return {
      identities: count,
      accepted: responses.filter((status) => status === 202).length,
      terminal_events: terminals.length,
      verified: terminals.filter((event) => event['detail-type'] === 'Email Identity Verified')
        .length,
      failed_reasons: countBy(
        terminals
          .filter((event) => event['detail-type'] === 'Email Identity Verification Failed')
          .map((event) => String((event.detail.reason as { code?: string } | undefined)?.code)),
      ),
      makespan_virtual_seconds: Math.round((virtualEnd - virtualStart) / 1000),
      ses_calls: sesCalls,
      ses_calls_per_identity: Number((sesTotal / count).toFixed(2)),
      sweeps: stack.schedules.get('sweeper')?.stats ?? null,
      ses_worker_batches: stack.eventSourceMappings.get('ses-worker')?.stats ?? null,
      post_latency_ms: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
      posts_resent: resent,
      lost: identities.filter((identity) => !perIdentity.has(identity)).length,
      duplicated: [...perIdentity.values()].filter((n) => n > 1).length,
      boot_ms: Math.round(bootMs),
      wall_ms: Math.round(wallMs),
      // The process's own CPU time (user and system) for the runs: what the machine's other
      // load changes least.
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      load_average: os.loadavg().map((load) => Number(load.toFixed(2))),
      // maxRSS is in kilobytes: the process's peak, stack and runs included.
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await stack.stop();
  }
}

type Figures = Awaited<ReturnType<typeof benchSandbox>>;

/**
 * Several sizes, each in a process of its own (a fresh heap, its own peak memory), one after the
 * other; then one line per size with its cost against the size before it: how the sandbox
 * scales. CPU time is the figure to compare (the machine's other load moves wall time most).
 */
function benchSizes(counts: number[]): boolean {
  const results: Figures[] = [];
  for (const count of counts) {
    process.stderr.write(`bench-sandbox: ${count} identities\n`);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? '', String(count)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 2 ** 20,
      },
    );
    const text = child.stdout.toString();
    process.stdout.write(text);
    if (child.status !== 0) return false;
    results.push(JSON.parse(text) as Figures);
  }
  const cpu = os.cpus();
  process.stdout.write(
    `\nThe sandbox at scale, SES at 1 request/s per action (${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version})\n`,
  );
  process.stdout.write(
    '| identities | makespan (virtual) | CPU | wall | peak RSS | load average | CPU / previous size | wall / previous size |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n',
  );
  results.forEach((figures, index) => {
    const before = results[index - 1];
    const ratio = (now: number, then: number | undefined) =>
      then === undefined
        ? ''
        : `${(now / then).toFixed(2)}× for ${(figures.identities / (before?.identities ?? 1)).toFixed(1)}× the identities`;
    process.stdout.write(
      `| ${figures.identities} | ${figures.makespan_virtual_seconds} s | ${(figures.cpu_ms / 1000).toFixed(1)} s | ${(figures.wall_ms / 1000).toFixed(1)} s | ${figures.peak_rss_mb} MB | ${figures.load_average[0]} | ${ratio(figures.cpu_ms, before?.cpu_ms)} | ${ratio(figures.wall_ms, before?.wall_ms)} |\n`,
    );
  });
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number);
  if (counts.length > 1) {
    process.exit(benchSizes(counts) ? 0 : 1);
  }
  benchSandbox(counts[0] ?? 200).then(
    (figures) => {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      const clean =
        figures.lost === 0 && figures.duplicated === 0 && figures.verified === figures.identities;
      process.exit(clean ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
