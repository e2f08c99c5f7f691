/**
 * `npm run sandbox`: the whole sandbox kept running until SIGINT/SIGTERM. API on
 * 127.0.0.1:3000 (SANDBOX_API_PORT), AWS endpoint on 127.0.0.1:4566 (SANDBOX_AWS_PORT), DNS on
 * 127.0.0.1:5300 over UDP and TCP (SANDBOX_DNS_PORT), zones from SANDBOX_ZONES (default
 * example.com), region from SANDBOX_REGION (default us-east-1). Virtual time runs at
 * SANDBOX_TIME_SCALE virtual seconds per real second, 60 by default (a 72-hour wait lasts 72 real
 * minutes: time to open the mailbox or add a record by hand), or as fast as idle allows (`max`).
 *
 * The ports open only once the stack is ready (GET /sandbox/health answers then); a taken port
 * fails at once, naming it and the variable that moves it.
 */
import { parseArgs } from 'node:util';
import { route53FromEnv, sesFaultsFromEnv, zonesFromEnv } from '#sandbox/aws/create-emulators.js';
import { envelopeOf } from '#sandbox/emulators/eventbridge.js';
import { DEFAULT_TIME_SCALE, portFromEnv, regionFromEnv, timeScaleFromEnv } from './env.js';
import { PortInUseError } from './ports.js';
import { formatDuration, printProgress, summarizeRuns } from './progress.js';
import { startStack } from './stack.js';

const err = (line: string) => process.stderr.write(`${line}\n`);

const USAGE = `Usage: npm run sandbox [-- --quiet]

Runs the whole local stack until Ctrl-C: the HTTP API and the local console, every emulated
AWS service on one endpoint, DNS. Each run's progress goes to stderr, one line per step that
does work, prefixed with the run's name; each event delivered goes to stdout as a JSON line.
Ctrl-C prints a summary of the runs and events before it stops.

  -q, --quiet   no progress lines: the ready line, the events on stdout, the summary
  -h, --help    this help

Ports and pace: SANDBOX_API_PORT (3000), SANDBOX_AWS_PORT (4566), SANDBOX_DNS_PORT (5300),
SANDBOX_TIME_SCALE (60 virtual seconds per real second, or max), SANDBOX_ZONES, SANDBOX_REGION.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const quiet = values.quiet === true;
  const timeScale = timeScaleFromEnv(DEFAULT_TIME_SCALE.sandbox);
  const stack = await startStack({
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    apiPort: portFromEnv('SANDBOX_API_PORT', 3000),
    awsPort: portFromEnv('SANDBOX_AWS_PORT', 4566),
    dnsPort: portFromEnv('SANDBOX_DNS_PORT', 5300),
    zones: zonesFromEnv(),
    region: regionFromEnv(),
    sesFaults: sesFaultsFromEnv(),
    route53: route53FromEnv(),
    ...(timeScale !== undefined && { maxSpeed: timeScale }),
  });

  const routes = stack.deployment.routes.map((route) => `${route.method} ${route.path}`);
  const sandboxPages = [
    'GET /sandbox/health',
    'GET /sandbox/metrics',
    'GET /sandbox/mailbox',
    'GET /sandbox/confirm/{token}',
    'GET /sandbox/events',
    'GET /sandbox/clock',
    'GET /sandbox/state-machine',
    'GET /sandbox/executions',
    'GET /sandbox/executions/{name}',
    'GET /sandbox/console',
  ];
  const onboarding = stack.deployment.parameters;
  const consoleUrl = `${stack.apiUrl}/sandbox/console`;
  if (quiet) {
    err(
      `Sandbox ready (Ctrl-C to stop): console ${consoleUrl}, API ${stack.apiUrl}, AWS endpoint ${stack.awsUrl}, DNS 127.0.0.1:${stack.dnsPort}`,
    );
  } else {
    err(`Sandbox ready (Ctrl-C to stop)
  Console       ${consoleUrl}
  API           ${stack.apiUrl}
${wrap([...routes, ...sandboxPages], '                ')}
  AWS endpoint  ${stack.awsUrl}   aws --endpoint-url ${stack.awsUrl} sesv2|route53|events|stepfunctions|secretsmanager|sqs|dynamodb ...
  DNS           127.0.0.1:${stack.dnsPort} (UDP and TCP)   dig @127.0.0.1 -p ${stack.dnsPort} ...
  Zones         ${[...stack.emulators.zones.entries()].map(([name, zone]) => `${name} (${zone.id})`).join(', ')}
  Region        ${stack.region}
  State machine ${stack.stateMachine.arn}
  Queues        ${stack.deployment.queues.map((queue) => queue.name).join(', ')}
  Tables        ${stack.deployment.tables.map((table) => table.name).join(', ')}
  Onboarding    events with source "${onboarding.OnboardingEventSource}" and detail-type "${onboarding.OnboardingDetailType}" on the ${onboarding.EventBusName} bus start a run
  Schedules     ${[...stack.schedules.keys()].map((name) => `${name} ${stack.deployment.functionNamed(name)?.schedules[0]?.expression}`).join(', ')}
  Virtual time  ${timeScale === undefined ? 'as fast as the sandbox is idle (SANDBOX_TIME_SCALE=max)' : `${timeScale} virtual seconds per real second (SANDBOX_TIME_SCALE)`}`);
  }

  // Progress of every run on stderr, each line named by its run, and each delivered event, as
  // it arrives, on stdout.
  if (!quiet) {
    printProgress((listener) => stack.stateMachine.subscribe(listener), {
      write: err,
      label: (execution) => execution.name,
      startAndEnd: true,
    });
  }
  stack.emulators.events.onEvent((event) => {
    process.stdout.write(`${JSON.stringify(envelopeOf(event))}\n`);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    err(
      `${signal}: stopping the sandbox after ${formatDuration(stack.clock.elapsedMs())} of virtual time.`,
    );
    for (const line of summarizeRuns(
      stack.stateMachine.list(),
      stack.emulators.events.events(),
      stack.clock.now(),
    )) {
      err(line);
    }
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
}

/** Items joined with commas, in lines of at most 100 characters, each line indented. */
function wrap(items: string[], indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line === '' ? item : `${line}, ${item}`;
    if (indent.length + next.length > 100 && line !== '') {
      lines.push(`${indent}${line},`);
      line = item;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(`${indent}${line}`);
  return lines.join('\n');
}

main().catch((error: unknown) => {
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    err(`sandbox: ${(error as Error).message}`);
    err('Run `npm run sandbox -- --help` for the options.');
    process.exit(2);
  }
  // A taken port or a malformed setting is the person's to fix: one line, no stack trace.
  const known = error instanceof PortInUseError || /^SANDBOX_/.test((error as Error).message);
  err(`sandbox: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exit(1);
});
