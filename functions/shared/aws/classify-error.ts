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

// Names AWS services use for "slow down". SES's quota error (LimitExceededException) is not one:
// for SES it means an account limit, which waiting does not lift.
const THROTTLING_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'SlowDown',
  'ProvisionedThroughputExceededException',
]);
const SERVER_NAMES = new Set([
  'InternalServiceErrorException',
  'InternalServiceError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
// What the SDK's own retry strategy counts as transient (timeouts and network failures).
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The AWS error name of an SDK error (`NotFoundException`...), or undefined for other values. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name } = error as SdkErrorShape;
  return typeof name === 'string' ? name : undefined;
}

function isOurError(error: unknown): error is Error {
  return Object.values(ERROR_CLASSES).some((errorClass) => error instanceof errorClass);
}

/** True when an AWS service says we are calling it too fast (any service, any SDK spelling). */
export function isAwsThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as SdkErrorShape & { $retryable?: { throttling?: boolean } };
  const name = typeof shape.name === 'string' ? shape.name : '';
  return (
    THROTTLING_NAMES.has(name) ||
    shape.$retryable?.throttling === true ||
    shape.$metadata?.httpStatusCode === 429
  );
}

/** True for a 5xx, a timeout or a network failure: the service may well answer next time. */
export function isAwsServerSide(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as SdkErrorShape;
  return isServerSide(shape, typeof shape.name === 'string' ? shape.name : '');
}

function isServerSide(error: SdkErrorShape, name: string): boolean {
  const status = error.$metadata?.httpStatusCode;
  return (
    SERVER_NAMES.has(name) ||
    TRANSIENT_NAMES.has(name) ||
    error.$fault === 'server' ||
    (typeof status === 'number' && status >= 500) ||
    (typeof error.code === 'string' && NETWORK_CODES.has(error.code))
  );
}

/**
 * Maps an AWS SDK error to the error class the state machine matches (errors.ts): throttling and
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
  const shape = error as SdkErrorShape;
  const name = error.name;
  const message = `${context ? `${context}: ` : ''}${name}: ${error.message || 'no message'}`;
  const options = { cause: error };

  if (isAwsThrottling(error)) return new ThrottlingError(message, options);
  if (name === 'ConcurrentModificationException') {
    return new ConcurrentModificationError(message, options);
  }
  if (isServerSide(shape, name)) return new ServiceUnavailableError(message, options);
  switch (name) {
    case 'BadRequestException':
      return new SesBadRequestError(message, options);
    case 'LimitExceededException':
      return new SesLimitExceededError(message, options);
    case 'NotFoundException':
      return new SesNotFoundError(message, options);
    // Callers that can adopt an existing identity handle this first; anywhere else it is a clash.
    case 'AlreadyExistsException':
    case 'ConflictException':
      return new ConflictError(message, options);
    default:
      return error;
  }
}

/** Belt and braces: should a service ever echo a private key in an error, it goes no further. */
export function scrubSecret(error: unknown, secret: string): void {
  if (!(error instanceof Error)) return;
  error.message = error.message.replaceAll(secret, '[private key]');
  if (error.stack !== undefined) error.stack = error.stack.replaceAll(secret, '[private key]');
}
