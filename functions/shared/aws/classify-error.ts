import { SESv2ServiceException } from '@aws-sdk/client-sesv2';
import {
  isServerError,
  isThrottlingError,
  isTransientError,
} from '@smithy/service-error-classification';
import {
  ConcurrentModificationError,
  ConflictError,
  ERROR_CLASSES,
  ServiceUnavailableError,
  SesBadRequestError,
  SesLimitExceededError,
  SesNotFoundError,
  ThrottlingError,
} from '#shared/workflow/errors.js';

/**
 * The one place that decides what an AWS error means to the workflow and the API. Throttling,
 * timeouts, network failures and 5xx are recognised as the SDK's own retry strategy recognises
 * them (@smithy/service-error-classification, which the SDK's StandardRetryStrategy uses), for
 * every service. On top of that, SES v2's documented exceptions keep their meaning: they apply
 * only to errors the SES client raised, so that an error class whose name says "Ses" can only
 * come from SES (a Secrets Manager LimitExceededException is not an SES quota).
 */

type StepErrorClass = new (message: string, options?: ErrorOptions) => Error;

/**
 * SES v2's exceptions with a meaning of their own (API reference, "Common Errors" of each
 * action; shapes in the sesv2 service model). Checked before the SDK's classification, which
 * would call LimitExceededException throttling and ConcurrentModificationException (a 500
 * fault in SES's model) transient.
 */
const SES_EXCEPTIONS = new Map<string, StepErrorClass>([
  ['BadRequestException', SesBadRequestError],
  // "There are too many instances of the specified resource type": an account quota, which
  // waiting does not lift, so it is terminal rather than a throttle.
  ['LimitExceededException', SesLimitExceededError],
  ['NotFoundException', SesNotFoundError],
  // Callers that can adopt an existing identity handle AlreadyExists first; anywhere else it is a clash.
  ['AlreadyExistsException', ConflictError],
  ['ConflictException', ConflictError],
  ['ConcurrentModificationException', ConcurrentModificationError],
]);

/** An error as the SDK raises it: an Error with `$fault`, `$metadata` and `$retryable` when AWS answered. */
type SdkError = Parameters<typeof isThrottlingError>[0];

/** The AWS error name of an SDK error (`NotFoundException`...), or undefined for other values. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name } = error as { name?: unknown };
  return typeof name === 'string' ? name : undefined;
}

/** SES's own exception name when the SES v2 client raised the error, else undefined. */
export function sesErrorName(error: unknown): string | undefined {
  return error instanceof SESv2ServiceException ? error.name : undefined;
}

function isSdkError(error: unknown): error is SdkError {
  return error instanceof Error;
}

/** True when an AWS service says we are calling it too fast (our own ThrottlingError too). */
export function isThrottling(error: unknown): boolean {
  if (error instanceof ThrottlingError) return true;
  if (!isSdkError(error)) return false;
  // SES's LimitExceededException is a quota; the SDK's list counts the name as throttling.
  if (sesErrorName(error) === 'LimitExceededException') return false;
  return isThrottlingError(error);
}

/**
 * True for a timeout, a network failure or a 5xx: the service may well answer next time. Also
 * true when the service marks the fault as its own (`$fault: 'server'`).
 */
export function isTransient(error: unknown): boolean {
  if (!isSdkError(error)) return false;
  return isTransientError(error) || isServerError(error) || error.$fault === 'server';
}

function isOurError(error: unknown): error is Error {
  return Object.values(ERROR_CLASSES).some((errorClass) => error instanceof errorClass);
}

/**
 * Maps an AWS SDK error to the error class the state machine matches (errors.ts): throttling,
 * concurrent modification, 5xx, timeouts and network failures are retryable; SES's BadRequest,
 * LimitExceeded and NotFound are terminal. The message names the AWS error and, when given, the
 * `context` (the call and its subject); the original error is the `cause`. Our own errors pass
 * through unchanged; anything unrecognised is returned as it is (the state machine then reports
 * INTERNAL_ERROR).
 */
export function toStepError(error: unknown, context?: string): Error {
  if (isOurError(error)) return error;
  if (!(error instanceof Error)) {
    return new Error(`${context ? `${context}: ` : ''}${String(error)}`, { cause: error });
  }
  const message = `${context ? `${context}: ` : ''}${error.name}: ${error.message || 'no message'}`;
  const options = { cause: error };

  const sesClass = SES_EXCEPTIONS.get(sesErrorName(error) ?? '');
  if (sesClass !== undefined) return new sesClass(message, options);
  if (isThrottling(error)) return new ThrottlingError(message, options);
  if (isTransient(error)) return new ServiceUnavailableError(message, options);
  return error;
}
