/**
 * `ses-identity-verifier <command>`: the operator's CLI for the HTTP API, against the local
 * sandbox by default or a deployed stack (SigV4-signed). Human output by default, --json for
 * scripts; exit codes in exit-codes.ts.
 */
import { parseArgs } from 'node:util';
import { ApiClient } from './api-client.js';
import { changeDkim } from './commands/change-dkim.js';
import { check } from './commands/check.js';
import {
  type Command,
  type CommandContext,
  type OptionSpec,
  secondsFlag,
  stringFlag,
  type Values,
} from './commands/command.js';
import { deleteIdentity } from './commands/delete.js';
import { events } from './commands/events.js';
import { list } from './commands/list.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { ApiError, UnreachableError, UsageError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { formatApiError } from './format.js';
import type { CliIo, Output } from './io.js';
import { Redactor } from './redact.js';
import { resolveTarget } from './target.js';

export const PROGRAM = 'ses-identity-verifier';

export const COMMANDS: readonly Command[] = [
  start,
  status,
  list,
  check,
  changeDkim,
  deleteIdentity,
  events,
];

/** The options every command takes: where the API is, and how to answer. */
const COMMON_OPTIONS: OptionSpec = {
  'api-url': { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  unsigned: { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const COMMON_HELP = `Target (the local sandbox unless one is named):
  --api-url URL              a deployed stack's API (its ApiUrl output), each request SigV4-signed
                             for execute-api with the AWS SDK's default credential chain
  --stack NAME               a deployed stack: its API URL read from the stack's ApiUrl output
  --region REGION            for --stack, and for an --api-url whose host names none
  --profile NAME             the AWS profile to sign with (default: AWS_PROFILE, then default)
  --unsigned                 with --api-url: do not sign (a stack deployed with ApiAuthType NONE)
Output:
  --json                     the API's data as JSON on stdout, as it is, for scripts
  --timeout SECONDS          give up on an answer after this long (default 30)
  -h, --help                 this help`;

const EXIT_HELP = `Exit codes: 0 ok (accepted, verified, every record right), 1 failed or timed out (or a
record is not right), 2 invalid input (the request's problems listed, field by field), 3 the API
cannot be reached, 4 the API refused (403, 404, 409, 429 with its Retry-After, 5xx), 5 still
pending (status).`;

export function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.synopsis.length));
  return `Usage: ${PROGRAM} <command> [options]

Starts SES identity verifications and DKIM changes, and shows where each identity stands,
record by record, on the local sandbox (\`npm run sandbox\`, at 127.0.0.1:3000 or
SANDBOX_API_PORT) or on a deployed stack.

Commands:
${COMMANDS.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`).join('\n')}

${COMMON_HELP}

${EXIT_HELP}

\`${PROGRAM} <command> --help\` shows a command's options.`;
}

function commandUsage(command: Command): string {
  return `Usage: ${PROGRAM} ${command.synopsis} [options]

${command.help}

${COMMON_HELP}`;
}

/** stdout and stderr, line by line, with every private key the CLI was given withheld. */
function outputOf(io: CliIo, redactor: Redactor): Output {
  return {
    line: (text = '') => io.stdout(`${redactor.redact(text)}\n`),
    error: (text) => io.stderr(`${redactor.redact(text)}\n`),
    json: (value) => io.stdout(`${redactor.redact(JSON.stringify(value, null, 2))}\n`),
    jsonLine: (value) => io.stdout(`${redactor.redact(JSON.stringify(value))}\n`),
  };
}

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const redactor = new Redactor();
  const out = outputOf(io, redactor);
  const [name, ...rest] = argv;
  if (name === undefined) {
    out.error(usage());
    return EXIT.INVALID;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((candidate) => candidate.name === rest[0]);
    out.line(command ? commandUsage(command) : usage());
    return EXIT.OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    out.error(
      `Unknown command ${JSON.stringify(name)}: one of ${COMMANDS.map((c) => c.name).join(', ')}.`,
    );
    out.error(`Run \`${PROGRAM} --help\` for the commands.`);
    return EXIT.INVALID;
  }

  let target = 'the API';
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    const flags = values as Values;
    if (flags.help === true) {
      out.line(commandUsage(command));
      return EXIT.OK;
    }
    const timeoutMs = secondsFlag(flags, 'timeout', 30_000);
    let client: ApiClient | undefined;
    const context: CommandContext = {
      io,
      out,
      redactor,
      values: flags,
      positionals,
      json: flags.json === true,
      async api() {
        if (client === undefined) {
          const resolved = await resolveTarget(
            {
              'api-url': stringFlag(flags, 'api-url'),
              stack: stringFlag(flags, 'stack'),
              region: stringFlag(flags, 'region'),
              profile: stringFlag(flags, 'profile'),
              unsigned: flags.unsigned === true,
            },
            io.env,
          );
          target = resolved.label;
          client = new ApiClient(resolved, { timeoutMs, signal: io.signal });
        }
        return client;
      },
    };
    return await command.run(context);
  } catch (error) {
    return explain(error, { command, io, out, target });
  }
}

/** The error in words on stderr, and its exit code. */
function explain(
  error: unknown,
  { command, io, out, target }: { command: Command; io: CliIo; out: Output; target: string },
): number {
  if (io.signal.aborted) {
    out.error('Stopped (Ctrl-C). A run the API started goes on: `status <identity>` shows it.');
    return EXIT.INTERRUPTED;
  }
  if (error instanceof UsageError || isParseArgsError(error)) {
    out.error((error as Error).message);
    out.error(`Run \`${PROGRAM} ${command.name} --help\` for its options.`);
    return EXIT.INVALID;
  }
  if (error instanceof ApiError) {
    for (const line of formatApiError(error, `${command.name} on ${target}`)) out.error(line);
    return error.exitCode;
  }
  if (error instanceof UnreachableError) {
    out.error(`${command.name}: ${error.message}`);
    return EXIT.UNREACHABLE;
  }
  if ((error as { name?: string }).name === 'CredentialsProviderError') {
    out.error(
      `${command.name}: no AWS credentials to sign with: the default chain (environment, SSO, shared config and credentials files, container or instance role) found none${(error as Error).message ? ` (${(error as Error).message})` : ''}`,
    );
    return EXIT.INVALID;
  }
  out.error(`${command.name}: internal error: ${(error as Error).stack ?? String(error)}`);
  return EXIT.INTERNAL;
}

function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
}
