import { ConfigurationError } from '#shared/workflow/errors.js';

/**
 * Reads a required environment variable, failing fast when it is missing or empty, so that a
 * mis-deployed function says so on its first invocation instead of calling AWS with a default.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** Reads an optional environment variable; empty counts as unset. */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Reads an optional positive integer setting (a tuning knob, never a resource name). */
export function integerEnv(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(
      `Environment variable ${name} must be a positive integer, got "${raw}"`,
    );
  }
  return value;
}

/** Reads an optional comma-separated list setting. */
export function listEnv(name: string): string[] {
  return (optionalEnv(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
