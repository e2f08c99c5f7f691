import { describe, expect, it } from 'vitest';
import { HttpError, isJsonMediaType, parseJsonBody, toErrorResponse } from '#shared/http/index.js';
import { ConflictError, ThrottlingError, ValidationError } from '#shared/workflow/errors.js';
import { sdkError } from '#test/unit/api/support.js';

describe('parseJsonBody', () => {
  const json = { 'Content-Type': 'application/json' };

  it.each([
    ['application/json', true],
    ['Application/JSON; charset=UTF-8', true],
    ['application/problem+json', true],
    ['text/json', false],
    ['application/jsonp', false],
    [undefined, false],
  ])('treats %s as JSON: %s', (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });

  it.each([
    ['no body', { headers: json, body: null }, 'VALIDATION_ERROR'],
    ['a blank body', { headers: json, body: '  ' }, 'VALIDATION_ERROR'],
    ['truncated JSON', { headers: json, body: '{"a":' }, 'VALIDATION_ERROR'],
    [
      'a text body',
      { headers: { 'content-type': 'text/plain' }, body: '{}' },
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['no headers', { headers: null, body: '{}' }, 'UNSUPPORTED_MEDIA_TYPE'],
    ['65 KiB', { headers: json, body: `"${'x'.repeat(65 * 1024)}"` }, 'PAYLOAD_TOO_LARGE'],
  ])('rejects %s with %s', (_label, event, code) => {
    expect(() => parseJsonBody(event)).toThrow(
      expect.objectContaining({ name: 'HttpError', code }),
    );
  });

  it('counts bytes, not characters, against the limit', () => {
    const body = `"${'é'.repeat(600)}"`; // 602 characters, 1202 bytes
    expect(() => parseJsonBody({ headers: json, body }, 1000)).toThrow(HttpError);
    expect(parseJsonBody({ headers: json, body }, 1202)).toBe('é'.repeat(600));
  });
});

describe('toErrorResponse', () => {
  it.each([
    [new HttpError('NOT_FOUND', 'gone'), 404, 'NOT_FOUND'],
    [
      new ValidationError([{ field: 'EmailIdentity', message: 'is required' }]),
      400,
      'VALIDATION_ERROR',
    ],
    [new ConflictError('busy'), 409, 'CONFLICT'],
    [new ThrottlingError('slow down'), 429, 'THROTTLED'],
    [sdkError('TooManyRequestsException', 429), 429, 'THROTTLED'],
    [Object.assign(new Error('x'), { $retryable: { throttling: true } }), 429, 'THROTTLED'],
    [new Error('boom'), 500, 'INTERNAL_ERROR'],
    ['a string', 500, 'INTERNAL_ERROR'],
  ])('maps %o to %i %s', (error, status, code) => {
    const response = toErrorResponse(error);
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['Content-Type']).toBe('application/json');
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: { code } });
    expect(response.headers?.['Retry-After']).toBe(status === 429 ? '2' : undefined);
  });

  it('lists validation details in the envelope', () => {
    const response = toErrorResponse(
      new ValidationError([{ field: 'Tags[0].Key', message: 'must not start with aws:' }]),
    );
    expect(JSON.parse(response.body).error.details).toEqual([
      { field: 'Tags[0].Key', message: 'must not start with aws:' },
    ]);
  });
});
