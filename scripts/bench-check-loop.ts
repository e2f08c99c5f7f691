/**
 * `npm run bench` (first part): what waiting for SES costs, and how soon a run notices SES's
 * verdict, for three designs side by side, on a seeded discrete-event model of a fleet, with SES
 * at its documented rate (1 request per second per action, account-wide):
 * - callback (this stack): after its creation a run sleeps on a task token (its first look
 *   trusts SES's answer to the creation); the sweeper reads every identity's status once a
 *   minute with ListEmailIdentities (1,000 a page) and wakes the runs whose identity changed;
 *   each woken run asks SES once, in line on the SES request queue; a safety-net look every 24 h
 *   asks SES only when our probe sees every record right; one last look at the 72-hour deadline;
 * - adaptive polling (the previous design): each run looks on its own schedule (60 s growing to
 *   5 min while the records are right, 2 min doubling to 60 min while they are missing), and a
 *   look SES throttles is skipped;
 * - a naive poll every minute.
 * State transitions are counted on the real definition (statemachine/verify-email-identity.asl.json):
 * every path below is checked state by state against it. Costs use Step Functions Standard
 * pricing ($0.025 per 1,000 state transitions).
 */
import { readFileSync } from 'node:fs';
import { DEADLINE_SECONDS, SAFETY_NET_SECONDS } from '#steps/check-verification/schedule.js';

const DEADLINE = DEADLINE_SECONDS.DOMAIN;
const SES_RATE = 1; // requests per second per action
const SWEEP_SECONDS = 60;
const PAGE = 1000; // ListEmailIdentities' largest page
const USD_PER_TRANSITION = 0.025 / 1000;

// ---------------------------------------------------------------------------------------------
// State transitions, on the real definition
// ---------------------------------------------------------------------------------------------

interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { Next: string }[];
}
const definition = JSON.parse(
  readFileSync('statemachine/verify-email-identity.asl.json', 'utf8'),
) as { StartAt: string; States: Record<string, AslState> };

/** The number of states a run enters along `path`, after checking every step is a real transition. */
function transitions(path: string[]): number {
  if (path[0] !== definition.StartAt) throw new Error(`A path starts at ${definition.StartAt}`);
  for (let i = 1; i < path.length; i++) {
    const from = definition.States[path[i - 1] as string];
    const to = path[i] as string;
    const targets = [
      from?.Next,
      from?.Default,
      ...(from?.Choices ?? []).map((c) => c.Next),
      ...(from?.Catch ?? []).map((c) => c.Next),
    ];
    if (!targets.includes(to)) throw new Error(`No transition ${path[i - 1]} → ${to}`);
  }
  return path.length;
}

const start = (published: boolean) => [
  'ReadRequest',
  'ClaimIdentity',
  'ChooseOperation',
  'CreateIdentity',
  'NoteRestart',
  'NeedsSendingSetup',
  'HasKeySecret',
  'IsDomainIdentity',
  'PublishDnsRecords',
  'WereRecordsWritten',
  published ? 'NotifyDnsRecordsPublished' : 'NotifyDnsRecordsRequired',
  'IsSwitchPending',
  'CheckVerification',
  'EvaluateVerification',
];
const look = ['AwaitVerification', 'CheckVerification', 'EvaluateVerification'];
const verified = [
  'HasReplicas',
  'HasStaleRecords',
  'RecordVerified',
  'NotifyIdentityVerified',
  'IdentityVerified',
];
const timedOut = [
  'RecordVerificationFailure',
  'HasFailureReadiness',
  'HasUnusedChangeKey',
  'SwitchedBeforeFailure',
  'RecordFailure',
  'NotifyVerificationFailed',
  'VerificationFailed',
];
/** A run of this stack with `looks` wake-ups or own looks after its first. */
const callbackPath = (published: boolean, looks: number, outcome: string[]) => [
  ...start(published),
  ...Array.from({ length: looks }, () => look).flat(),
  ...outcome,
];
// The previous design: ReadRequest … Notify, then Wait → Check → Evaluate per look, then the end.
const POLLING_FIXED = 12;
const POLLING_PER_LOOK = 3;

// ---------------------------------------------------------------------------------------------
// The fleet model
// ---------------------------------------------------------------------------------------------

/** A small seeded generator, so that every run of the bench prints the same figures. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Identity {
  /** When SES created it (seconds; creations go at SES's rate). */
  createdAt: number;
  /** When its records are right in DNS (null: never). */
  recordsAt: number | null;
  /** When SES flips it to SUCCESS (null: never). */
  flipAt: number | null;
}

interface Outcome {
  /** Seconds from SES's flip to the run's Verified decision, per identity that flipped. */
  latencies: number[];
  /** SES calls the runs made (CreateEmailIdentity, GetEmailIdentity), and the sweeper's. */
  runCalls: number;
  sweepCalls: number;
  /** Looks SES throttled (polling designs skip them). */
  throttled: number;
  transitions: number;
}

const random = mulberry32(20261201);

/** SES's rate for one action: a look at time t either gets a slot or is refused (throttled). */
class RateLimit {
  private tokens = 1;
  private last = 0;
  take(t: number): boolean {
    this.tokens = Math.min(1, this.tokens + (t - this.last) * SES_RATE);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A FIFO line for one action at SES's rate: when a call queued at t goes out. */
class Line {
  private free = 0;
  at(t: number): number {
    const slot = Math.max(t, this.free);
    this.free = slot + 1 / SES_RATE;
    return slot;
  }
}

/** A binary min-heap: the polling designs schedule millions of looks. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => number) {}
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(items[i] as T, items[parent] as T) >= 0) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.before(items[left] as T, items[smallest] as T) < 0)
          smallest = left;
        if (right < items.length && this.before(items[right] as T, items[smallest] as T) < 0)
          smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as T, items[i] as T];
        i = smallest;
      }
    }
    return top;
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * This stack: looks happen at the first wait, at a wake-up (the sweep after SES's flip), at a
 * safety net with the records right, and at the deadline; every GetEmailIdentity waits in one
 * line at SES's rate.
 */
function callbackDesign(fleet: Identity[], published: boolean): Outcome {
  const get = new Line();
  const out: Outcome = {
    latencies: [],
    runCalls: fleet.length,
    sweepCalls: 0,
    throttled: 0,
    transitions: 0,
  };
  type Look = { t: number; id: Identity; kind: 'first' | 'wake' | 'net' | 'deadline' };
  const looks: Look[] = [];
  for (const id of fleet) {
    looks.push({ t: id.createdAt + 5, id, kind: 'first' });
    if (id.flipAt !== null && id.flipAt <= id.createdAt + DEADLINE) {
      // The first sweep that reads SES after the flip, plus the pages that sweep reads first.
      const sweep = Math.ceil(id.flipAt / SWEEP_SECONDS) * SWEEP_SECONDS;
      looks.push({ t: sweep + Math.ceil(fleet.length / PAGE), id, kind: 'wake' });
    }
    for (let net = SAFETY_NET_SECONDS; net < DEADLINE; net += SAFETY_NET_SECONDS) {
      looks.push({ t: id.createdAt + net, id, kind: 'net' });
    }
    looks.push({ t: id.createdAt + DEADLINE, id, kind: 'deadline' });
  }
  looks.sort((a, b) => a.t - b.t);
  const done = new Map<Identity, number>();
  const looked = new Map<Identity, number>();
  for (const l of looks) {
    if (done.has(l.id)) continue;
    // The first look trusts SES's answer to the creation; a safety-net look asks SES only when
    // our probe finds every record right.
    const asks =
      l.kind === 'wake' ||
      l.kind === 'deadline' ||
      (l.kind === 'net' && l.id.recordsAt !== null && l.t >= l.id.recordsAt);
    looked.set(l.id, (looked.get(l.id) ?? 0) + (l.kind === 'first' ? 0 : 1));
    if (!asks) continue;
    out.runCalls += 1;
    const answeredAt = get.at(l.t);
    const flipped = l.id.flipAt !== null && answeredAt >= l.id.flipAt;
    if (flipped || l.kind === 'deadline') {
      done.set(l.id, answeredAt);
      if (flipped) out.latencies.push(answeredAt - (l.id.flipAt as number));
    }
  }
  for (const id of fleet) {
    const ok = id.flipAt !== null && (done.get(id) ?? Infinity) - id.createdAt <= DEADLINE;
    out.transitions += transitions(
      callbackPath(published, looked.get(id) ?? 0, ok ? verified : timedOut),
    );
  }
  // While any run waits, one ListEmailIdentities call per thousand identities per sweep.
  const lastDone = Math.max(...fleet.map((id) => done.get(id) ?? id.createdAt + DEADLINE));
  out.sweepCalls = Math.ceil(lastDone / SWEEP_SECONDS) * Math.ceil(fleet.length / PAGE);
  return out;
}

type Schedule = (previous: number, recordsRight: boolean, previousRight: boolean | null) => number;

/** The previous design's adaptive schedule. */
const adaptive: Schedule = (previous, right, previousRight) => {
  const pace = right ? { first: 60, factor: 1.5, max: 300 } : { first: 120, factor: 2, max: 3600 };
  return previousRight === right
    ? Math.min(Math.ceil(previous * pace.factor), pace.max)
    : pace.first;
};
const everyMinute: Schedule = () => 60;

/** A polling design: every run looks on its own clock; a look SES throttles is skipped. */
function pollingDesign(fleet: Identity[], schedule: Schedule): Outcome {
  const limit = new RateLimit();
  const out: Outcome = {
    latencies: [],
    runCalls: fleet.length,
    sweepCalls: 0,
    throttled: 0,
    transitions: 0,
  };
  type Look = {
    t: number;
    id: Identity;
    previous: number;
    previousRight: boolean | null;
    count: number;
  };
  const queue = new MinHeap<Look>((a, b) => a.t - b.t);
  for (const id of fleet) {
    queue.push({ t: id.createdAt + 60, id, previous: 60, previousRight: null, count: 0 });
  }
  const insert = (look: Look) => queue.push(look);
  for (let l = queue.pop(); l !== undefined; l = queue.pop()) {
    const count = l.count + 1;
    const end = () => {
      out.transitions += POLLING_FIXED + POLLING_PER_LOOK * count;
    };
    if (l.t - l.id.createdAt >= DEADLINE) {
      out.runCalls += 1;
      end();
      continue;
    }
    out.runCalls += 1;
    if (!limit.take(l.t)) {
      out.throttled += 1;
    } else if (l.id.flipAt !== null && l.t >= l.id.flipAt) {
      out.latencies.push(l.t - l.id.flipAt);
      end();
      continue;
    }
    const right = l.id.recordsAt !== null && l.t >= l.id.recordsAt;
    const seconds = Math.min(
      schedule(l.previous, right, l.previousRight),
      l.id.createdAt + DEADLINE - l.t,
    );
    // A look lands anywhere in its second: runs do not reach SES in a fixed order.
    insert({
      t: l.t + Math.max(1, seconds) + random(),
      id: l.id,
      previous: seconds,
      previousRight: right,
      count,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

// SES flips minutes to hours after the records are right (log-uniform, 1 min–6 h).
const flipDelay = () => 60 * Math.exp(random() * Math.log(360));
/** N identities submitted at once: created in line at SES's rate, one a second. */
function fleetOf(n: number, world: (createdAt: number) => Omit<Identity, 'createdAt'>): Identity[] {
  return Array.from({ length: n }, (_, i) => ({ createdAt: i / SES_RATE, ...world(i / SES_RATE) }));
}
const route53 = (createdAt: number) => ({ recordsAt: createdAt, flipAt: createdAt + flipDelay() });
const manual = (createdAt: number) => {
  const recordsAt = createdAt + random() * 48 * 3600;
  return { recordsAt, flipAt: recordsAt + flipDelay() };
};
const never = () => ({ recordsAt: null, flipAt: null });

const minutes = (s: number) =>
  Number.isNaN(s) ? '      —' : `${(s / 60).toFixed(1)} min`.padStart(9);
const designs = [
  ['callback + sweeper (this stack)', (f: Identity[], p: boolean) => callbackDesign(f, p)],
  ['adaptive polling (before)', (f: Identity[]) => pollingDesign(f, adaptive)],
  ['poll every minute', (f: Identity[]) => pollingDesign(f, everyMinute)],
] as const;

console.log(
  `Waiting for SES at its rate (${SES_RATE} request/s per action), three designs side by side\n`,
);

console.log('One domain whose records never come: 72 hours to TIMED_OUT');
for (const [name, design] of designs) {
  const o = design(fleetOf(1, never), false);
  console.log(
    `  ${name.padEnd(32)} ${String(o.runCalls).padStart(6)} SES calls by the run  ${String(o.transitions).padStart(6)} state transitions  $${(o.transitions * USD_PER_TRANSITION).toFixed(4)}`,
  );
}

for (const [title, world, published] of [
  ['Route 53: records right from the start', route53, true],
  ['Manual: a person adds the records within 48 h', manual, false],
] as const) {
  const n = 1000;
  console.log(`\n${title}; ${n} identities submitted at once`);
  console.log(
    `  ${''.padEnd(32)} ${'flip→Verified p50'.padStart(17)} ${'p95'.padStart(9)}  SES calls/identity  throttled looks  transitions/run`,
  );
  // Each design sees the same fleet.
  const fleet = fleetOf(n, world);
  for (const [name, design] of designs) {
    const o = design(fleet, published);
    const calls = (o.runCalls + o.sweepCalls) / n;
    console.log(
      `  ${name.padEnd(32)} ${minutes(percentile(o.latencies, 50)).padStart(17)} ${minutes(percentile(o.latencies, 95))}  ${calls.toFixed(1).padStart(18)}  ${String(o.throttled).padStart(15)}  ${(o.transitions / n).toFixed(0).padStart(15)}`,
    );
  }
}

console.log(
  "\n10,000 identities waiting (SES's per-Region identity quota): the check loop's load on SES",
);
const tenThousand = 10_000;
const pagesPerSweep = Math.ceil(tenThousand / PAGE);
console.log(
  `  callback + sweeper: ${pagesPerSweep} ListEmailIdentities calls per sweep, ${pagesPerSweep * 60} per hour (${(pagesPerSweep / SWEEP_SECONDS).toFixed(2)}/s of its 1/s budget), ${((pagesPerSweep * 60) / tenThousand).toFixed(3)} per identity per hour; plus one GetEmailIdentity per run woken`,
);
console.log(
  `  adaptive polling:   at least ${(tenThousand / 300).toFixed(0)} GetEmailIdentity calls per second wanted (every run at its 5-minute floor) against 1/s`,
);
console.log(
  `  poll every minute:  ${(tenThousand / 60).toFixed(0)} GetEmailIdentity calls per second wanted against 1/s`,
);
