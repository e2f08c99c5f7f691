import {
  InternalServiceError,
  ResourceNotFoundException,
  LimitExceededException as SecretsLimitExceededException,
} from '@aws-sdk/client-secrets-manager';
import {
  AlreadyExistsException,
  BadRequestException,
  ConcurrentModificationException,
  InternalServiceErrorException,
  LimitExceededException,
  NotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { awsErrorName, isThrottling, toStepError } from '#shared/aws/classify-error.js';
import {
  ConcurrentModificationError,
  ConflictError,
  type ErrorName,
  ServiceUnavailableError,
  SesBadRequestError,
  SesLimitExceededError,
  SesNotFoundError,
  ThrottlingError,
  ValidationError,
} from '#shared/workflow/errors.js';

const metadata = { httpStatusCode: 400 };

function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name }, extra);
}

describe('toStepError', () => {
  it.each<[string, Error, ErrorName]>([
    [
      'TooManyRequestsException',
      new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }),
      'ThrottlingError',
    ],
    ['a Route 53 Throttling error', sdkError('Throttling'), 'ThrottlingError'],
    [
      'any HTTP 429',
      sdkError('Whatever', { $metadata: { httpStatusCode: 429 } }),
      'ThrottlingError',
    ],
    [
      'ConcurrentModificationException',
      new ConcurrentModificationException({ message: 'busy', $metadata: { httpStatusCode: 500 } }),
      'ConcurrentModificationError',
    ],
    [
      'InternalServiceErrorException',
      new InternalServiceErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
      'ServiceUnavailableError',
    ],
    [
      'Secrets Manager InternalServiceError',
      new InternalServiceError({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
      'ServiceUnavailableError',
    ],
    [
      'a 503',
      sdkError('Unknown', { $metadata: { httpStatusCode: 503 } }),
      'ServiceUnavailableError',
    ],
    ['a server fault', sdkError('Unknown', { $fault: 'server' }), 'ServiceUnavailableError'],
    ['an SDK TimeoutError', sdkError('TimeoutError'), 'ServiceUnavailableError'],
    [
      'a refused connection',
      sdkError('Error', { code: 'ECONNREFUSED' }),
      'ServiceUnavailableError',
    ],
    ['a DNS failure', sdkError('Error', { code: 'ENOTFOUND' }), 'ServiceUnavailableError'],
    [
      'BadRequestException',
      new BadRequestException({ message: 'bad', $metadata: metadata }),
      'SesBadRequestError',
    ],
    [
      'LimitExceededException',
      new LimitExceededException({ message: 'quota', $metadata: metadata }),
      'SesLimitExceededError',
    ],
    [
      'NotFoundException',
      new NotFoundException({ message: 'no such thing', $metadata: { httpStatusCode: 404 } }),
      'SesNotFoundError',
    ],
    [
      'AlreadyExistsException',
      new AlreadyExistsException({ message: 'exists', $metadata: metadata }),
      'ConflictError',
    ],
  ])('maps %s to %s', (_label, error, expectedName) => {
    const mapped = toStepError(error, 'CreateEmailIdentity for example.com');
    expect(mapped.name).toBe(expectedName);
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toContain('CreateEmailIdentity for example.com');
    expect(mapped.message).toContain(error.message);
  });

  it('maps to instances of the shared error classes, which the state machine matches by name', () => {
    const $metadata = { httpStatusCode: 400 };
    const cases: [Error, new (...args: never[]) => Error][] = [
      [sdkError('TooManyRequestsException'), ThrottlingError],
      [
        new ConcurrentModificationException({ message: 'busy', $metadata }),
        ConcurrentModificationError,
      ],
      [
        new InternalServiceErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
        ServiceUnavailableError,
      ],
      [new BadRequestException({ message: 'bad', $metadata }), SesBadRequestError],
      [new LimitExceededException({ message: 'quota', $metadata }), SesLimitExceededError],
      [new NotFoundException({ message: 'none', $metadata }), SesNotFoundError],
      [new AlreadyExistsException({ message: 'exists', $metadata }), ConflictError],
    ];
    for (const [error, errorClass] of cases) {
      expect(toStepError(error)).toBeInstanceOf(errorClass);
    }
  });

  it.each([
    ['a plain error named like it', sdkError('LimitExceededException')],
    [
      'Secrets Manager',
      new SecretsLimitExceededException({ message: 'quota', $metadata: { httpStatusCode: 400 } }),
    ],
  ])(
    'gives an SES error class only to errors the SES client raised, not to %s',
    (_label, error) => {
      const mapped = toStepError(
        error,
        'GetSecretValue arn:aws:secretsmanager:us-east-1:1:secret:k',
      );
      expect(mapped.name).not.toMatch(/^Ses/);
      // The SDK's own classification: LimitExceededException is a throttle outside SES.
      expect(mapped).toBeInstanceOf(ThrottlingError);
    },
  );

  it.each([
    ['NotFoundException', sdkError('NotFoundException', { $metadata: { httpStatusCode: 404 } })],
    [
      'a Secrets Manager ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }),
    ],
  ])('returns a %s that SES did not raise as it is', (_label, error) => {
    expect(toStepError(error)).toBe(error);
  });

  it('passes one of our own errors through unchanged', () => {
    const own = new ValidationError([{ field: 'EmailIdentity', message: 'is required' }]);
    expect(toStepError(own, 'context')).toBe(own);
  });

  it('returns an unrecognised error as it is, so the state machine reports INTERNAL_ERROR', () => {
    const error = sdkError('AccessDeniedException', { $metadata: { httpStatusCode: 403 } });
    expect(toStepError(error)).toBe(error);
  });

  it('wraps a thrown non-Error value in an Error that keeps it as the cause', () => {
    const mapped = toStepError('boom', 'GetEmailIdentity');
    expect(mapped).toBeInstanceOf(Error);
    expect(mapped.message).toBe('GetEmailIdentity: boom');
    expect(mapped.cause).toBe('boom');
  });

  it.each<[string, unknown, boolean]>([
    [
      'an SES TooManyRequestsException',
      new TooManyRequestsException({ message: 'slow', $metadata: {} }),
      true,
    ],
    ['an HTTP 429', sdkError('Whatever', { $metadata: { httpStatusCode: 429 } }), true],
    ['our own ThrottlingError', new ThrottlingError('slow'), true],
    ['an SES quota', new LimitExceededException({ message: 'quota', $metadata: metadata }), false],
    ['a 503', sdkError('Unknown', { $metadata: { httpStatusCode: 503 } }), false],
    ['a string', 'ThrottlingException', false],
  ])('isThrottling says whether %s asks us to slow down', (_label, error, expected) => {
    expect(isThrottling(error)).toBe(expected);
  });

  it('reads the AWS error name of an SDK error and nothing from other values', () => {
    expect(awsErrorName(sdkError('NotFoundException'))).toBe('NotFoundException');
    expect(awsErrorName('NotFoundException')).toBeUndefined();
    expect(awsErrorName(null)).toBeUndefined();
  });
});
