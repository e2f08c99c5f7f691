/**
 * `npm start -- <identity> [options]`: boots the sandbox in this process, runs one verification
 * end to end, prints progress on stderr and only the terminal event (as EventBridge delivers it)
 * on stdout. Exit code: 0 verified, 1 failed or timed out, 2 invalid input.
 */
// First: the request model below binds node:crypto's key generation when it loads.
import '#sandbox/engine/real-work.js';
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { envelopeOf } from '#sandbox/emulators/eventbridge.js';
import { type IdentityRequest, parseIdentityRequest } from '#shared/request/index.js';
import { ValidationError } from '#shared/workflow/errors.js';
import { DEFAULT_TIME_SCALE, regionFromEnv, timeScaleFromEnv } from './env.js';
import { formatDuration, printProgress, summarizeRuns } from './progress.js';

const USAGE = `Usage: npm start -- [identity] [options]

Runs one SES identity verification end to end in the local sandbox (no AWS account needed):
template.yaml's state machine, functions, queues, registry table and sweeper schedule against
emulated SES, Route 53, EventBridge, Secrets Manager, SQS and DynamoDB, on a virtual clock.
Progress goes to stderr; the terminal event, as JSON, to stdout. Exit code: 0 verified, 1 failed
or timed out, 2 invalid input.

  identity                   a domain (example.com) or an address (someone@example.com);
                             default: a short demo on demo.example.com
Options:
  --byodkim-key-file FILE    BYODKIM with this RSA private key (PEM, or base64 DER)
  --generate-key             BYODKIM with a key pair generated for the run
  --selector NAME            the BYODKIM selector
  --key-length 1024|2048     key length (generated key, or Easy DKIM's next signing key)
  --tag Key=Value            a tag on the identity (repeatable)
  --configuration-set NAME   the default configuration set of the identity
  --dns route53|manual       where the DKIM records go (default: Route 53 when a zone matches)
  --hosted-zone-id ID        the Route 53 hosted zone to write to
  --replica REGION           a DEED replica of the domain in this other SES Region, created
                             and verified once the domain is (repeatable)
  --mail-from DOMAIN         a custom MAIL FROM domain below the identity (bounce.example.com)
  --mail-from-on-mx-failure USE_DEFAULT_VALUE|REJECT_MESSAGE
                             what SES does while the MX record is missing (default: the first)
  --dmarc none|quarantine|reject
                             a _dmarc record with this policy, unless one exists already
  --dmarc-rua mailto:...     where DMARC aggregate reports go
  --tenant NAME              the SES tenant the identity belongs to (created when new)
  --confirm-after MINUTES    addresses: follow the mailbox link after this many virtual
                             minutes (default 2; "never" leaves it unconfirmed)
  -q, --quiet                no progress: stderr gets only a failure's reason, or an error
  -h, --help                 this help

Progress is one line per step that does work, with the virtual time since the run began;
a failure ends with its reason in words. Ctrl-C stops the run and says where it was. To pipe
the event, keep npm's own banner off stdout: npm start --silent -- example.com | jq .

The sandbox hosts the zones in SANDBOX_ZONES (default example.com): identities under them
verify; any other domain goes the manual way and, since nobody adds its records, times out
after 72 virtual hours (the sweeper looks every virtual minute meanwhile: half a minute or so). SANDBOX_REGION (default us-east-1) is the region SES answers as;
SANDBOX_TIME_SCALE (default max) caps virtual seconds per real second.`;

const TERMINAL = new Set(['Email Identity Verified', 'Email Identity Verification Failed']);

class UsageError extends Error {}

interface CliRequest {
  request: IdentityRequest;
  confirmAfterMinutes: number | undefined;
  demo: boolean;
  quiet: boolean;
}

async function privateKeyBase64(file: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new UsageError(
      `--byodkim-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`,
    );
  }
  if (!text.includes('-----BEGIN')) return text.replace(/\s+/g, '');
  try {
    return createPrivateKey(text).export({ type: 'pkcs1', format: 'der' }).toString('base64');
  } catch {
    // Never echo the file's content: it is a private key.
    throw new UsageError(`--byodkim-key-file ${file}: not a readable RSA private key`);
  }
}

/** Builds the request (SES's CreateEmailIdentity fields and our extensions) from the options. */
export async function requestFromArgs(argv: string[]): Promise<CliRequest | 'help'> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'byodkim-key-file': { type: 'string' },
      'generate-key': { type: 'boolean' },
      selector: { type: 'string' },
      'key-length': { type: 'string' },
      tag: { type: 'string', multiple: true },
      'configuration-set': { type: 'string' },
      dns: { type: 'string' },
      'hosted-zone-id': { type: 'string' },
      replica: { type: 'string', multiple: true },
      'mail-from': { type: 'string' },
      'mail-from-on-mx-failure': { type: 'string' },
      dmarc: { type: 'string' },
      'dmarc-rua': { type: 'string' },
      tenant: { type: 'string' },
      'confirm-after': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 1)
    throw new UsageError(`One identity at a time, got ${positionals.join(' ')}`);
  const demo = positionals.length === 0;
  const request: Record<string, unknown> = { EmailIdentity: positionals[0] ?? 'demo.example.com' };

  const keyLength =
    values['key-length'] === undefined
      ? undefined
      : values['key-length'] === '1024' || values['key-length'] === '2048'
        ? (`RSA_${values['key-length']}_BIT` as const)
        : values['key-length'];
  const dkim: Record<string, unknown> = {};
  if (values.selector !== undefined) dkim.DomainSigningSelector = values.selector;
  if (values['byodkim-key-file'] !== undefined) {
    dkim.DomainSigningPrivateKey = await privateKeyBase64(values['byodkim-key-file']);
  }
  if (values['generate-key']) {
    dkim.GenerateDomainSigningKey = keyLength === undefined ? {} : { KeyLength: keyLength };
  } else if (keyLength !== undefined) {
    dkim.NextSigningKeyLength = keyLength;
  }
  if (Object.keys(dkim).length > 0) request.DkimSigningAttributes = dkim;

  if (values.tag !== undefined) {
    request.Tags = values.tag.map((tag) => {
      const at = tag.indexOf('=');
      return at < 0 ? { Key: tag, Value: '' } : { Key: tag.slice(0, at), Value: tag.slice(at + 1) };
    });
  }
  if (values['configuration-set'] !== undefined) {
    request.ConfigurationSetName = values['configuration-set'];
  }
  if (values.dns !== undefined || values['hosted-zone-id'] !== undefined) {
    request.Dns = {
      ...(values.dns !== undefined && { Provider: values.dns }),
      ...(values['hosted-zone-id'] !== undefined && { HostedZoneId: values['hosted-zone-id'] }),
    };
  }
  if (values.replica !== undefined) request.Replicas = values.replica;

  if (values['mail-from'] !== undefined || values['mail-from-on-mx-failure'] !== undefined) {
    request.MailFrom = {
      ...(values['mail-from'] !== undefined && { Domain: values['mail-from'] }),
      ...(values['mail-from-on-mx-failure'] !== undefined && {
        BehaviorOnMxFailure: values['mail-from-on-mx-failure'],
      }),
    };
  }
  if (values.dmarc !== undefined || values['dmarc-rua'] !== undefined) {
    request.Dmarc = {
      ...(values.dmarc !== undefined && { Policy: values.dmarc }),
      ...(values['dmarc-rua'] !== undefined && { Rua: values['dmarc-rua'] }),
    };
  }
  if (values.tenant !== undefined) request.Tenant = { Name: values.tenant };

  let confirmAfterMinutes: number | undefined = 2;
  const confirm = values['confirm-after'];
  if (confirm === 'never') confirmAfterMinutes = undefined;
  else if (confirm !== undefined) {
    confirmAfterMinutes = Number(confirm);
    if (!Number.isFinite(confirmAfterMinutes) || confirmAfterMinutes < 0) {
      throw new UsageError(
        `--confirm-after must be a number of minutes or "never", got ${confirm}`,
      );
    }
  }
  // The shared request model, exactly as the API applies it, before anything starts; the
  // Region is the sandbox's, which a replica must not name.
  process.env.AWS_REGION = regionFromEnv();
  return {
    request: parseIdentityRequest(request, { keyDelivery: 'inline' }),
    confirmAfterMinutes,
    demo,
    quiet: values.quiet === true,
  };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let parsed: CliRequest | 'help';
  try {
    parsed = await requestFromArgs(argv);
  } catch (error) {
    if (error instanceof ValidationError) {
      err('Invalid request:');
      for (const detail of error.details) err(`  ${detail.field}: ${detail.message}`);
      return 2;
    }
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      err((error as Error).message);
      err('Run `npm start -- --help` for the options.');
      return 2;
    }
    throw error;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const wallStart = performance.now();
  performance.mark('cli:parsed');
  // Loaded after validation, so an invalid request exits without booting anything.
  const { startStack } = await import('./stack.js');
  const { zonesFromEnv, sesFaultsFromEnv, route53FromEnv } = await import(
    '#sandbox/aws/create-emulators.js'
  );
  const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  performance.mark('cli:imported');
  // One run, unattended: as fast as idle allows unless SANDBOX_TIME_SCALE says otherwise.
  const timeScale = timeScaleFromEnv(DEFAULT_TIME_SCALE.start);
  const stack = await startStack({
    apiPort: false,
    zones: zonesFromEnv(),
    region: regionFromEnv(),
    sesFaults: sesFaultsFromEnv(),
    route53: route53FromEnv(),
    ...(timeScale !== undefined && { maxSpeed: timeScale }),
  });
  performance.mark('cli:up');
  // Progress and notes; a quiet run prints only what went wrong.
  const say = parsed.quiet ? () => {} : err;
  try {
    const { request } = parsed;
    if (parsed.demo) say(`No identity given: a demo run on ${request.EmailIdentity}.`);
    say(
      `Sandbox up in ${Math.round(performance.now() - wallStart)} ms: AWS endpoint ${stack.awsUrl}, ` +
        `DNS 127.0.0.1:${stack.dnsPort}, zones ${[...stack.emulators.zones.keys()].join(', ')}`,
    );

    // As the API does: a supplied key goes to Secrets Manager, the input carries its ARN only.
    let input: IdentityRequest = request;
    const key = request.DkimSigningAttributes?.DomainSigningPrivateKey;
    if (key !== undefined && request.DkimSigningAttributes) {
      // Under the prefix the template grants the functions (KEY_SECRET_PREFIX), as the API does.
      const prefix = stack.deployment.sharedEnvironment().environment.KEY_SECRET_PREFIX ?? '';
      const secret = await stack.clients.secretsManager.send(
        new CreateSecretCommand({
          Name: `${prefix}${request.EmailIdentity}-cli`,
          SecretString: key,
        }),
      );
      const { DomainSigningPrivateKey: _key, ...attributes } = request.DkimSigningAttributes;
      input = {
        ...request,
        DkimSigningAttributes: { ...attributes, DomainSigningPrivateKeySecretArn: secret.ARN },
      };
      say(`Private key stored in the sandbox Secrets Manager (${secret.ARN}).`);
    }

    // The run's start, for the time on the mailbox's lines (they come from SES, not a step).
    let runStart = stack.clock.now();
    const at = () => `[+${formatDuration(stack.clock.now().getTime() - runStart.getTime())}]`;
    if (parsed.confirmAfterMinutes !== undefined) {
      const minutes = parsed.confirmAfterMinutes;
      stack.emulators.ses.onMessage((message) => {
        say(
          `${at()} mailbox: verification message to ${message.to}; following its link in ${minutes} min`,
        );
        // A faked timer: the link is followed after that much virtual time.
        setTimeout(() => {
          const result = stack.emulators.ses.confirm(message.token);
          say(`${at()} mailbox: followed the link for ${message.to}: ${result.status}`);
        }, minutes * 60_000);
      });
    }

    // Subscribed before the start, so that the first states are printed too.
    const name = `cli-${Date.now()}`;
    const stopPrinting = printProgress((listener) => stack.stateMachine.subscribe(listener), {
      write: say,
      only: (execution) => execution.name === name,
    });
    const { executionArn } = await stack.clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachine.arn,
        name,
        input: JSON.stringify(input),
      }),
    );
    if (!executionArn) throw new Error('StartExecution returned no executionArn');
    say(`Execution ${executionArn}`);
    const running = stack.stateMachine.describe(executionArn);
    runStart = running.startDate;
    // Ctrl-C: stop the run (as StopExecution would) and say where it was.
    let onInterrupt = () => {};
    const interrupted = new Promise<'interrupted'>((resolve) => {
      onInterrupt = () => resolve('interrupted');
    });
    process.once('SIGINT', onInterrupt);
    const outcome = await Promise.race([running.done, interrupted]);
    performance.mark('cli:ran');
    process.off('SIGINT', onInterrupt);
    stopPrinting();
    if (outcome === 'interrupted') {
      err(
        `Interrupted after ${((performance.now() - wallStart) / 1000).toFixed(1)} s of wall time; the run is stopped.`,
      );
      for (const line of summarizeRuns(
        [running],
        stack.emulators.events.events(),
        stack.clock.now(),
      )) {
        err(line);
      }
      stack.stateMachine.stop(executionArn, 'Interrupted', 'Ctrl-C in npm start');
      return 130;
    }
    const execution = outcome;

    const terminal = stack.emulators.events
      .events()
      .find(
        (event) => TERMINAL.has(event['detail-type']) && event.resources.includes(executionArn),
      );
    say(
      `Execution ${execution.status}${execution.error ? ` (${execution.error})` : ''} after ` +
        `${formatDuration((execution.stopDate ?? stack.clock.now()).getTime() - execution.startDate.getTime())} ` +
        `of virtual time, ${((performance.now() - wallStart) / 1000).toFixed(1)} s of wall time.`,
    );
    if (!terminal) {
      err('No terminal event was delivered: the run ended without telling anyone.');
      return 1;
    }
    // The reason in words, quiet or not: the event on stdout is for programs.
    const reason = terminal.detail.reason as
      | { code?: string; message?: string; retryable?: boolean }
      | undefined;
    if (reason) {
      err(`Failed: ${reason.code}: ${reason.message}`);
      err(
        reason.retryable
          ? 'The same request may succeed if it is tried again later.'
          : 'Trying the same request again will fail the same way: fix what the reason says first.',
      );
    }
    process.stdout.write(`${JSON.stringify(envelopeOf(terminal), null, 2)}\n`);
    return terminal['detail-type'] === 'Email Identity Verified' ? 0 : 1;
  } finally {
    await stack.stop();
    performance.mark('cli:stopped');
    if (process.env.SANDBOX_TIMINGS) err(timings());
  }
}

/** The phases the process went through, as one line (SANDBOX_TIMINGS=1; npm run bench reads it). */
function timings(): string {
  const phases: [string, string][] = [
    ['cli:parsed', 'bundle loaded and request parsed'],
    ['cli:imported', 'stack modules imported'],
    ['sandbox:emulators', 'emulators started (dynalite included)'],
    ['sandbox:listening', 'servers listening (AWS endpoint and DNS)'],
    ['sandbox:deployed', 'template deployed'],
    ['sandbox:handlers', "functions' clients made"],
    ['cli:up', 'sandbox up'],
    ['cli:ran', 'run done'],
    ['cli:stopped', 'stopped'],
  ];
  const at = phases.map(([mark, label]) => {
    const [entry] = performance.getEntriesByName(mark, 'mark');
    return `${label} ${entry === undefined ? '?' : Math.round(entry.startTime)}`;
  });
  return `Timings, ms since the process started: ${at.join(', ')}`;
}

// Run only as the entry point (`tsx sandbox/cli.ts`), not when a test imports this module.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`sandbox: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
