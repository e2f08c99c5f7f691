/**
 * `npm run sandbox`: the whole sandbox kept running until SIGINT/SIGTERM. API on
 * 127.0.0.1:3000 (SANDBOX_API_PORT), AWS endpoint on 127.0.0.1:4566 (SANDBOX_AWS_PORT), DNS on
 * 127.0.0.1:5300 over UDP and TCP (SANDBOX_DNS_PORT), zones from SANDBOX_ZONES (default
 * example.com). Virtual time runs whenever the stack is idle; SANDBOX_TIME_SCALE caps it (virtual
 * seconds per real second) for when a person wants to act mid-run.
 */
import { sesFaultsFromEnv, zonesFromEnv } from '#sandbox/aws/create-emulators.js';
import { printProgress } from './progress.js';
import { startStack } from './stack.js';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number, got "${raw}"`);
  }
  return port;
}

function timeScaleFromEnv(): number | undefined {
  const raw = process.env.SANDBOX_TIME_SCALE;
  if (raw === undefined || raw === '') return undefined;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`SANDBOX_TIME_SCALE must be a positive number, got "${raw}"`);
  }
  return scale;
}

const err = (line: string) => process.stderr.write(`${line}\n`);
const timeScale = timeScaleFromEnv();

const stack = await startStack({
  host: process.env.SANDBOX_HOST ?? '127.0.0.1',
  apiPort: portFromEnv('SANDBOX_API_PORT', 3000),
  awsPort: portFromEnv('SANDBOX_AWS_PORT', 4566),
  dnsPort: portFromEnv('SANDBOX_DNS_PORT', 5300),
  zones: zonesFromEnv(),
  sesFaults: sesFaultsFromEnv(),
  ...(timeScale !== undefined && { maxSpeed: timeScale }),
});

err(`Sandbox running (Ctrl-C to stop)
  API           ${stack.apiUrl}   POST /identities, GET /identities/{identity},
                PUT /identities/{identity}/dkim,
                GET /sandbox/mailbox, GET /sandbox/confirm/{token}, GET /sandbox/events
  AWS endpoint  ${stack.awsUrl}   aws --endpoint-url ${stack.awsUrl} sesv2|route53|events|stepfunctions|secretsmanager ...
  DNS           127.0.0.1:${stack.dnsPort} (UDP and TCP)   dig @127.0.0.1 -p ${stack.dnsPort} ...
  Zones         ${[...stack.emulators.zones.entries()].map(([name, zone]) => `${name} (${zone.id})`).join(', ')}
  State machine ${stack.stateMachine.arn}
  Virtual time  ${timeScale === undefined ? 'runs whenever the sandbox is idle' : `at most ${timeScale}x real time`}`);

// Progress of every run on stderr, and each delivered event, as it arrives, on stdout.
printProgress(
  (listener) => stack.stateMachine.subscribe(listener),
  (line) => err(line),
  undefined,
  (execution) => execution.name.slice(0, 24),
);
stack.stateMachine.subscribe((execution, event) => {
  if (event.type === 'ExecutionStarted') err(`Execution started: ${execution.name}`);
});
stack.emulators.events.onEvent((event) => {
  const { eventBusName: _bus, ...envelope } = event;
  process.stdout.write(`${JSON.stringify(envelope)}\n`);
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  err(`${signal}: stopping the sandbox`);
  stack.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      err(`sandbox: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
