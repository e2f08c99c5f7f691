/**
 * The sandbox's settings from the environment, read the same way by `npm run sandbox`
 * (server.ts) and `npm start` (cli.ts). A malformed value fails loudly, naming the variable.
 */

/** A port variable (`SANDBOX_API_PORT`...); 0 picks a free port. */
export function portFromEnv(name: string, fallback: number, env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number (0 picks a free one), got "${raw}"`);
  }
  return port;
}

/**
 * The default of `SANDBOX_TIME_SCALE`: `npm run sandbox` runs at a person's pace (a 72-hour wait
 * lasts 72 real minutes, time to open the mailbox or add a record by hand); `npm start` runs one
 * verification unattended, as fast as idle allows.
 */
export const DEFAULT_TIME_SCALE = { sandbox: 60, start: 'max' } as const;

/**
 * `SANDBOX_TIME_SCALE`: virtual seconds per real second, or `max` (as fast as idle allows).
 * Undefined means `max`.
 */
export function timeScaleFromEnv(fallback: number | 'max', env = process.env): number | undefined {
  const raw = env.SANDBOX_TIME_SCALE?.trim() || String(fallback);
  if (raw === 'max') return undefined;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`SANDBOX_TIME_SCALE must be a positive number or "max", got "${raw}"`);
  }
  return scale;
}

// A region name as AWS spells them: us-east-1, ap-southeast-3, us-gov-east-1, eu-isoe-west-1.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** `SANDBOX_REGION` (default us-east-1): the region the emulated services answer as. */
export function regionFromEnv(env = process.env): string {
  const raw = env.SANDBOX_REGION?.trim() || 'us-east-1';
  if (!REGION.test(raw)) {
    throw new Error(`SANDBOX_REGION must be an AWS region name such as us-east-1, got "${raw}"`);
  }
  return raw;
}
