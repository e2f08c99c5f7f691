import { Route53ServiceException } from '@aws-sdk/client-route-53';
import { isThrottling, isTransient } from '#shared/aws/classify-error.js';
import {
  DnsPublishError,
  ServiceUnavailableError,
  ThrottlingError,
} from '#shared/workflow/errors.js';
import { normalizeName } from './records.js';

/**
 * What the Route 53 modules share: one call's error mapping and Route 53's spellings of names
 * and ids. A failed call is not retried here: throttling (Throttling, PriorRequestNotComplete)
 * and 5xx become ThrottlingError and ServiceUnavailableError, which the state machine retries
 * with back-off by re-running the whole (idempotent) step.
 */

/** Runs one API call and maps a failure to the error class the state machine acts on. */
export async function route53Call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toDnsError(operation, error);
  }
}

/** Route 53 names end in a dot and escape some characters as `\ddd` (octal). */
export function decodeName(name: string): string {
  return normalizeName(
    name.replace(/\\(\d{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    ),
  );
}

/** `/hostedzone/Z123` and `/change/C123` → the bare id, which every API call accepts. */
export function stripPrefix(id: string): string {
  return id.replace(/^\/(hostedzone|change)\//, '');
}

/**
 * Throttling and 5xx are retried by the state machine; any other answer from Route 53 (no such
 * zone, an invalid change batch, access denied) is a DnsPublishError no retry will fix. An error
 * that is not Route 53's at all is a bug of ours, best reported as it is.
 */
function toDnsError(operation: string, error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error), { cause: error });
  const message = `Route 53 ${operation} failed: ${error.name}: ${error.message}`;
  if (isThrottling(error)) return new ThrottlingError(message, { cause: error });
  if (isTransient(error)) return new ServiceUnavailableError(message, { cause: error });
  if (error instanceof Route53ServiceException)
    return new DnsPublishError(message, { cause: error });
  return error;
}
