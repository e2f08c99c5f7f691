/**
 * `npm run bench`: how many checks the adaptive schedule makes, and how late it notices SES's
 * flip, against a naive poll every minute. It drives the real schedule
 * (functions/steps/check-verification/schedule.ts) on a virtual clock against a modelled SES:
 * - never published: SES never flips; the run ends at the 72-hour deadline;
 * - Route 53: records are right from the start; SES flips at a random time;
 * - manual: a person adds the records at a random hour; SES flips minutes after that.
 * Costs use Step Functions Standard pricing ($0.025 per 1,000 state transitions).
 */
import {
  DEADLINE_SECONDS,
  nextCheckSeconds,
  type ScheduleMode,
} from '#steps/check-verification/schedule.js';

const DEADLINE = DEADLINE_SECONDS.DOMAIN;
// ReadRequest, ChooseOperation, CreateIdentity, HasKeySecret, IsDomainIdentity,
// PublishDnsRecords, WereRecordsWritten, NotifyDnsRecords*, then RecordVerificationFailure,
// HasKeySecretAfterFailure, NotifyVerificationFailed and VerificationFailed.
const FIXED_TRANSITIONS = 12;
// WaitForVerification, CheckVerification, EvaluateVerification.
const TRANSITIONS_PER_CHECK = 3;
const USD_PER_TRANSITION = 0.025 / 1000;
const SAMPLES = 20_000;

interface World {
  /** When the records are in DNS (seconds after creation), or null: never. */
  recordsAt: number | null;
  /** When SES flips to SUCCESS, or null: never. */
  flipAt: number | null;
}

interface Run {
  checks: number;
  /** Seconds from SES's flip to our noticing it (the Verified event), when it flipped. */
  latency: number | null;
}

type Scheduler = (
  now: number,
  world: World,
  previous: { seconds: number; mode: ScheduleMode | null },
) => {
  seconds: number;
  mode: ScheduleMode | null;
};

const adaptive: Scheduler = (now, world, previous) => {
  const mode: ScheduleMode =
    world.recordsAt !== null && now >= world.recordsAt ? 'records-ok' : 'records-missing';
  const seconds = nextCheckSeconds({
    mode,
    previousMode: previous.mode,
    previousSeconds: previous.seconds,
    secondsToDeadline: DEADLINE - now,
  });
  return { seconds, mode };
};

const naive: Scheduler = (now) => ({ seconds: Math.min(60, DEADLINE - now), mode: null });

/** One run of the check loop: the first wait is the state machine's initial 60 s. */
function simulate(world: World, schedule: Scheduler): Run {
  let now = 60;
  let checks = 0;
  let previous: { seconds: number; mode: ScheduleMode | null } = { seconds: 60, mode: null };
  for (;;) {
    checks += 1;
    if (world.flipAt !== null && now >= world.flipAt)
      return { checks, latency: now - world.flipAt };
    if (now >= DEADLINE) return { checks, latency: null };
    previous = schedule(now, world, previous);
    now += previous.seconds;
  }
}

// A small seeded generator, so that every run of the bench prints the same figures.
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function latencies(worlds: World[], schedule: Scheduler) {
  const runs = worlds.map((w) => simulate(w, schedule));
  const seen = runs.flatMap((r) => (r.latency === null ? [] : [r.latency]));
  const checks = runs.map((r) => r.checks);
  return {
    p50: percentile(seen, 50),
    p95: percentile(seen, 95),
    max: Math.max(...seen),
    meanChecks: checks.reduce((a, b) => a + b, 0) / checks.length,
  };
}

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const random = mulberry32(20261123);

console.log('Check schedule: adaptive vs a naive poll every minute\n');

const never: World = { recordsAt: null, flipAt: null };
console.log('Never published (72 h, TIMED_OUT)');
for (const [name, schedule] of [
  ['adaptive', adaptive],
  ['naive 1-min', naive],
] as const) {
  const { checks } = simulate(never, schedule);
  const transitions = FIXED_TRANSITIONS + TRANSITIONS_PER_CHECK * checks;
  console.log(
    `  ${name.padEnd(12)} ${String(checks).padStart(5)} checks  ${String(transitions).padStart(6)} state transitions  $${(transitions * USD_PER_TRANSITION).toFixed(4)} per run`,
  );
}

// SES flips a few minutes to a few hours after the records are right (log-uniform, 1 min–6 h).
const flipDelay = () => 60 * Math.exp(random() * Math.log(360));
const route53: World[] = Array.from({ length: SAMPLES }, () => ({
  recordsAt: 0,
  flipAt: flipDelay(),
}));
// A person adds the records some time in the first 48 hours; SES flips minutes to hours later.
const manual: World[] = Array.from({ length: SAMPLES }, () => {
  const recordsAt = random() * 48 * 3600;
  return { recordsAt, flipAt: recordsAt + flipDelay() };
});

for (const [title, worlds] of [
  ['Route 53 (records right from the start)', route53],
  ['Manual (records added within 48 h)', manual],
] as const) {
  console.log(`\n${title}: latency from SES's flip to the Verified event, ${SAMPLES} runs`);
  for (const [name, schedule] of [
    ['adaptive', adaptive],
    ['naive 1-min', naive],
  ] as const) {
    const l = latencies(worlds, schedule);
    console.log(
      `  ${name.padEnd(12)} p50 ${minutes(l.p50).padStart(9)}  p95 ${minutes(l.p95).padStart(9)}  max ${minutes(l.max).padStart(9)}  mean checks ${l.meanChecks.toFixed(0).padStart(5)}`,
    );
  }
}
