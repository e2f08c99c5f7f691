import {
  createEmulators,
  type Emulators,
  type EmulatorsOptions,
} from '#sandbox/aws/create-emulators.js';
import { startAwsEndpoint } from '#sandbox/aws/endpoint.js';
import { CallMetrics } from '#sandbox/aws/metrics.js';

/** A clock the test moves by hand: the emulators' virtual time. */
export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
}

export function testClock(start = '2026-01-01T00:00:00Z'): TestClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Client settings for the sandbox endpoint; one attempt, so a test sees the first answer. */
export function clientConfig(url: string, maxAttempts = 1) {
  return {
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
    maxAttempts,
  };
}

export interface Stack extends Emulators {
  url: string;
  clock: TestClock;
  /** Calls served, by service operation and outcome. */
  metrics: CallMetrics;
  stop(): Promise<void>;
}

/** Emulators, DNS server and endpoint on random ports, on a hand-driven clock. */
export async function startStack(options: EmulatorsOptions = {}): Promise<Stack> {
  const clock = testClock();
  const emulators = await createEmulators({ now: clock.now, route53InsyncDelayMs: 0, ...options });
  const metrics = new CallMetrics(emulators.services);
  const endpoint = await startAwsEndpoint({ port: 0, services: emulators.services, metrics });
  return {
    ...emulators,
    url: endpoint.url,
    clock,
    metrics,
    stop: async () => {
      await endpoint.close();
      await emulators.close();
    },
  };
}
