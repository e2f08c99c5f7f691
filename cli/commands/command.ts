/** What every command is made of, and the helpers their flags share. */
import type { ParseArgsConfig } from 'node:util';
import type { ApiClient } from '#cli/api-client.js';
import { UsageError } from '#cli/errors.js';
import type { ExitCode } from '#cli/exit-codes.js';
import type { CliIo, Output } from '#cli/io.js';
import type { Redactor } from '#cli/redact.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  io: CliIo;
  out: Output;
  redactor: Redactor;
  /** The parsed flags (the command's own and the common ones). */
  values: Values;
  positionals: string[];
  /** --json: the API's data on stdout, as it is. */
  json: boolean;
  /** The API client for the target the flags name (resolved when first asked for). */
  api(): Promise<ApiClient>;
}

export interface Command {
  name: string;
  /** `start <identity> [options]` */
  synopsis: string;
  /** One line for the command list. */
  summary: string;
  /** The command's own options, described for --help. */
  help: string;
  options: OptionSpec;
  run(context: CommandContext): Promise<ExitCode>;
}

/** The one identity a command acts on. */
export function oneIdentity(context: CommandContext, command: string): string {
  const [identity, ...rest] = context.positionals;
  if (identity === undefined)
    throw new UsageError(`Name the identity: ${command} <domain or address>`);
  if (rest.length > 0)
    throw new UsageError(`One identity at a time, got ${context.positionals.join(' ')}`);
  return identity;
}

/** No identity is expected here. */
export function noPositionals(context: CommandContext, command: string): void {
  if (context.positionals.length > 0) {
    throw new UsageError(`${command} takes no identity, got ${context.positionals.join(' ')}`);
  }
}

export function stringFlag(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(values: Values, name: string): boolean {
  return values[name] === true;
}

export function stringsFlag(values: Values, name: string): string[] | undefined {
  const value = values[name];
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : undefined;
}

/** A number of seconds (fractions allowed) as milliseconds, or the default. */
export function secondsFlag(values: Values, name: string, defaultMs: number): number {
  const raw = stringFlag(values, name);
  if (raw === undefined) return defaultMs;
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--${name} must be a number of seconds above 0, got ${raw}`);
  }
  return Math.round(seconds * 1000);
}

/** A whole number from `min` up, or undefined when the flag is absent. */
export function integerFlag(values: Values, name: string, min: number): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw new UsageError(`--${name} must be a whole number from ${min}, got ${raw}`);
  }
  return Number(raw);
}

/** Options of the commands that start a run and may follow it to its end. */
export const WAIT_OPTIONS: OptionSpec = {
  wait: { type: 'boolean' },
  interval: { type: 'string' },
  'idempotency-key': { type: 'string' },
};

export const WAIT_HELP = `  --idempotency-key KEY      start a new run for a request identical to an earlier one
                             (after it failed or timed out); 1 to 255 printable characters
  --wait                     follow the run to its end; exit 0 verified, 1 failed or timed out
  --interval SECONDS         how often --wait asks (default 1 for the sandbox, 5 for a stack)`;

/** The signing flags `start` and `change-dkim` share. */
export const SIGNING_OPTIONS: OptionSpec = {
  selector: { type: 'string' },
  'generate-key': { type: 'boolean' },
  'key-length': { type: 'string' },
  'key-secret-arn': { type: 'string' },
  'key-file': { type: 'string' },
  dns: { type: 'string' },
  'hosted-zone-id': { type: 'string' },
  'body-file': { type: 'string' },
};
