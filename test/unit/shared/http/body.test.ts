import { describe, expect, it } from 'vitest';
import { HttpError, parseJsonBody } from '#shared/http/index.js';

const json = { 'content-type': 'application/json' };
const KEY = `MIIEowIBAAKCAQEA${'r8Tq'.repeat(300)}`;

/** The HttpError a body raises; fails the test when it parses. */
function rejectionOf(body: string, headers: Record<string, string> = json): HttpError {
  try {
    parseJsonBody({ headers, body });
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected an HttpError, but the body parsed');
}

describe('parseJsonBody: duplicate names', () => {
  it.each([
    [
      'at the top level',
      '{"EmailIdentity":"a.example.com","EmailIdentity":"b.example.com"}',
      'EmailIdentity',
    ],
    ['inside a tag', '{"Tags":[{"Key":"a","Value":"1","Key":"b"}]}', 'Tags[0].Key'],
    [
      'written once with an escape',
      '{"Dns":{"Provider":"manual","\\u0050rovider":"route53"}}',
      'Dns.Provider',
    ],
  ])('rejects a name repeated %s, at its path', (_label, body, field) => {
    const error = rejectionOf(body);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details).toEqual([
      { field, message: expect.stringMatching(/appears more than once in its object/) },
    ]);
  });

  it('caps the list of repeated names', () => {
    const members = Array.from({ length: 2_000 }, (_, i) => `"k${i}":1,"k${i}":2`).join(',');
    const error = rejectionOf(`{${members}}`);
    expect(error.details).toHaveLength(26);
    expect(error.details?.[25]?.message).toMatch(/and 1,975 more problems/);
  });
});

describe('parseJsonBody: encoding', () => {
  it('ignores a UTF-8 byte order mark (RFC 8259 §8.1)', () => {
    expect(parseJsonBody({ headers: json, body: '\ufeff{"EmailIdentity":"example.com"}' })).toEqual(
      { EmailIdentity: 'example.com' },
    );
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"EmailIdentity":"example.com"}'),
    ]);
    expect(
      parseJsonBody({ headers: json, body: bytes.toString('base64'), isBase64Encoded: true }),
    ).toEqual({ EmailIdentity: 'example.com' });
  });

  it('rejects bytes that are not UTF-8 instead of replacing them', () => {
    const bytes = Buffer.from([...Buffer.from('{"Tags":[{"Key":"a'), 0xff, ...Buffer.from('"}]}')]);
    expect(() =>
      parseJsonBody({ headers: json, body: bytes.toString('base64'), isBase64Encoded: true }),
    ).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        message: expect.stringMatching(/not valid UTF-8/),
      }),
    );
  });
});

describe('parseJsonBody: syntax errors say what and where, without quoting the body', () => {
  it.each([
    ['a missing value', '{"a":}', /a value was expected at line 1, column 6/],
    [
      'a trailing comma',
      '{\n  "a": 1,\n}',
      /a name in double quotes was expected at line 3, column 1/,
    ],
    ['a comment', '{"a": 1 /* no */}', /comments are not JSON at line 1, column 9/],
    ['single quotes', "{'a': 1}", /unexpected character "'" \(U\+0027\) at line 1, column 2/],
    ['a raw tab in a string', '{"a": "x\ty"}', /control character .*must be escaped/],
    ['text after the value', '{"a": 1} {}', /more text after the JSON value at line 1, column 10/],
    ['an unclosed string', '{"a": "x', /a string is not closed/],
    ['an unclosed object', '{"a": 1', /a closing brace was expected/],
  ])('describes %s', (_label, body, message) => {
    const error = rejectionOf(body);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toMatch(message);
    expect(error.details?.[0]).toEqual({ field: 'body', message: expect.stringMatching(message) });
  });

  it('does not quote a key from a body that does not parse', () => {
    const error = rejectionOf(`{"EmailIdentity": "x", "Key": ${KEY}}`);
    const text = JSON.stringify({ message: error.message, details: error.details });
    expect(text).not.toContain(KEY.slice(16, 32));
  });

  it('rejects arrays and objects nested deeper than any request', () => {
    const error = rejectionOf(`${'['.repeat(5_000)}${']'.repeat(5_000)}`);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toMatch(/nested more than 32 levels deep/);
  });
});

describe('parseJsonBody: the Content-Type', () => {
  it('quotes only a short, cut prefix of an unsupported Content-Type', () => {
    const error = rejectionOf('{}', { 'content-type': `text/${KEY}` });
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.message).toContain('"text/MIIEowI…"');
    expect(error.message).not.toContain(KEY.slice(8, 24));
  });
});
