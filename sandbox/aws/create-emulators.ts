import { type SandboxDnsServer, startDnsServer } from '#sandbox/dns/server.js';
import { DynamoDbEmulator } from '#sandbox/emulators/dynamodb.js';
import {
  EventBridgeEmulator,
  type EventBridgeEmulatorOptions,
} from '#sandbox/emulators/eventbridge.js';
import {
  type HostedZone,
  Route53Emulator,
  type Route53EmulatorOptions,
} from '#sandbox/emulators/route53.js';
import { SecretsManagerEmulator } from '#sandbox/emulators/secrets-manager.js';
import { SesEmulator, type SesEmulatorOptions } from '#sandbox/emulators/ses.js';
import { RegionalSes } from '#sandbox/emulators/ses-regions.js';
import { SqsEmulator } from '#sandbox/emulators/sqs.js';
import { type FaultOptions, type Now, numberFromEnv, systemNow } from '#sandbox/emulators/wire.js';
import type { EmulatedService } from './service.js';

export interface EmulatorsOptions {
  /** The clock every emulator reads (the sandbox's virtual clock). */
  now?: Now;
  region?: string;
  /** Zones created at start, public and INSYNC. Default `['example.com']`. */
  zones?: string[];
  /** Start the DNS server (and point SES at it). Default true. */
  dns?: boolean | { port?: number; host?: string };
  /** Virtual milliseconds before a Route 53 change is INSYNC. */
  route53InsyncDelayMs?: number;
  /** Route 53's rate and faults (its account rate by default). */
  route53?: Pick<Route53EmulatorOptions, 'faults' | 'priorRequestRate'>;
  ses?: Omit<SesEmulatorOptions, 'now' | 'region' | 'dnsServers'>;
  events?: Omit<EventBridgeEmulatorOptions, 'now' | 'region'>;
}

export interface Emulators {
  /** SES in the sandbox's own Region (the mailbox, the console and the sweeper read this one). */
  ses: SesEmulator;
  /** SES in every Region, by the Region a request is signed for (DEED replicas). */
  sesRegions: RegionalSes;
  route53: Route53Emulator;
  events: EventBridgeEmulator;
  secrets: SecretsManagerEmulator;
  sqs: SqsEmulator;
  /** dynalite, in this process, behind the endpoint. */
  dynamodb: DynamoDbEmulator;
  dnsServer?: SandboxDnsServer;
  /** Every emulated service, for `startAwsEndpoint({ services })`. */
  services: EmulatedService[];
  /** The default zones, by name without the trailing dot. */
  zones: Map<string, HostedZone>;
  /** Stops the DNS server, dynalite and the queues' timers. */
  close(): Promise<void>;
}

/**
 * SES's rate and faults from the environment: `SANDBOX_SES_RATE_LIMIT` (requests per second per
 * operation, account-wide, on the virtual clock; default 1, as SES documents; 0 turns it off),
 * `SANDBOX_SES_THROTTLE_RATE` and `SANDBOX_SES_FAULT_RATE` (0..1), `SANDBOX_SES_FAULT_AFTER_SHARE`
 * (0..1, the share of faults that strike after the operation took effect; default 0.5),
 * `SANDBOX_SES_FAULT_SEED`.
 */
export function sesFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultOptions {
  return faultsFromEnv(env, 'SANDBOX_SES');
}

/**
 * The same knobs for one service, under `prefix`: `<prefix>_RATE_LIMIT`, `<prefix>_THROTTLE_RATE`,
 * `<prefix>_FAULT_RATE`, `<prefix>_FAULT_AFTER_SHARE`, `<prefix>_FAULT_SEED`.
 */
function faultsFromEnv(env: NodeJS.ProcessEnv, prefix: string): FaultOptions {
  const rateLimit = numberFromEnv(env, `${prefix}_RATE_LIMIT`, { min: 0 });
  const faultRate = numberFromEnv(env, `${prefix}_FAULT_RATE`, { min: 0, max: 1 });
  const faultAfterShare = numberFromEnv(env, `${prefix}_FAULT_AFTER_SHARE`, { min: 0, max: 1 });
  const throttleRate = numberFromEnv(env, `${prefix}_THROTTLE_RATE`, { min: 0, max: 1 });
  const seed = numberFromEnv(env, `${prefix}_FAULT_SEED`);
  return {
    ...(rateLimit !== undefined && { rateLimit }),
    ...(faultRate !== undefined && { faultRate }),
    ...(faultAfterShare !== undefined && { faultAfterShare }),
    ...(throttleRate !== undefined && { throttleRate }),
    ...(seed !== undefined && { seed }),
  };
}

/**
 * Route 53's rate and faults from the environment: `SANDBOX_ROUTE53_RATE_LIMIT` (requests per
 * second, account-wide, on the virtual clock; default 10 with bursts of 50, as Route 53 documents;
 * 0 turns it off), `SANDBOX_ROUTE53_THROTTLE_RATE`, `SANDBOX_ROUTE53_FAULT_RATE`,
 * `SANDBOX_ROUTE53_FAULT_AFTER_SHARE`, `SANDBOX_ROUTE53_FAULT_SEED`, and
 * `SANDBOX_ROUTE53_PRIOR_REQUEST_RATE` (0..1: the share of change batches sent while the zone's
 * previous change is PENDING that get PriorRequestNotComplete).
 */
export function route53FromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<Route53EmulatorOptions, 'faults' | 'priorRequestRate'> {
  const priorRequestRate = numberFromEnv(env, 'SANDBOX_ROUTE53_PRIOR_REQUEST_RATE', {
    min: 0,
    max: 1,
  });
  return {
    faults: faultsFromEnv(env, 'SANDBOX_ROUTE53'),
    ...(priorRequestRate !== undefined && { priorRequestRate }),
  };
}

/** `SANDBOX_ZONES` (comma-separated), default `example.com`. */
export function zonesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.SANDBOX_ZONES;
  const zones = (raw ?? 'example.com')
    .split(',')
    .map((zone) => zone.trim())
    .filter(Boolean);
  return zones;
}

/** Creates public, INSYNC hosted zones for `names` (skipping any that already exist). */
export function createDefaultZones(
  route53: Route53Emulator,
  names: string[] = ['example.com'],
): Map<string, HostedZone> {
  const zones = new Map<string, HostedZone>();
  for (const name of names) {
    const bare = name.toLowerCase().replace(/\.$/, '');
    const existing = route53
      .listZones()
      .find((zone) => zone.name === `${bare}.` && !zone.privateZone);
    zones.set(bare, existing ?? route53.createZone(bare, { comment: 'sandbox default zone' }));
  }
  return zones;
}

/**
 * Creates the sandbox's emulated AWS services on one clock, with the default zones, and (unless
 * disabled) starts the DNS server that serves those zones and that SES queries. Queues and
 * tables come from template.yaml (sandbox/deploy/provision.ts), once the endpoint's URL is known.
 */
export async function createEmulators(options: EmulatorsOptions = {}): Promise<Emulators> {
  const now = options.now ?? systemNow;
  const region = options.region ?? 'us-east-1';
  const route53 = new Route53Emulator({
    ...options.route53,
    now,
    ...(options.route53InsyncDelayMs !== undefined && {
      insyncDelayMs: options.route53InsyncDelayMs,
    }),
  });
  const zones = createDefaultZones(route53, options.zones ?? ['example.com']);
  let dnsServer: SandboxDnsServer | undefined;
  if (options.dns !== false) {
    const dns = typeof options.dns === 'object' ? options.dns : {};
    dnsServer = await startDnsServer({ zones: route53, ...dns });
  }
  const sesOptions = {
    ...options.ses,
    now,
    ...(dnsServer && { dnsServers: [dnsServer.address] }),
  };
  let sesRegions: RegionalSes | undefined;
  const ses = new SesEmulator({
    ...sesOptions,
    region,
    otherRegion: (other) => sesRegions?.existing(other),
  });
  sesRegions = new RegionalSes(ses, sesOptions);
  const events = new EventBridgeEmulator({ ...options.events, now, region });
  const secrets = new SecretsManagerEmulator({ now, region });
  const sqs = new SqsEmulator({ now, region });
  const dynamodb = await DynamoDbEmulator.start();
  return {
    ses,
    sesRegions,
    route53,
    events,
    secrets,
    sqs,
    dynamodb,
    ...(dnsServer && { dnsServer }),
    services: [sesRegions, route53, events, secrets, sqs, dynamodb],
    zones,
    close: async () => {
      sqs.close();
      await Promise.allSettled([dnsServer?.close(), dynamodb.close()]);
    },
  };
}
