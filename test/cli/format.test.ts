import { describe, expect, it } from 'vitest';
import { ApiError } from '#cli/errors.js';
import {
  formatApiError,
  formatCheck,
  formatStatus,
  recordLines,
  shorten,
  table,
  when,
} from '#cli/format.js';

// Human output, line by line: short lines a person reads at a terminal.

const TXT_VALUE = `v=DKIM1; k=rsa; p=${'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(9)}`;

describe('records', () => {
  it('cuts a BYODKIM TXT value in the middle, keeping both ends and its length', () => {
    const line = shorten(TXT_VALUE);

    expect(line.length).toBeLessThan(100);
    expect(line.startsWith('v=DKIM1; k=rsa; p=MIIB')).toBe(true);
    expect(line).toContain(TXT_VALUE.slice(-16));
    expect(line).toContain(`(${TXT_VALUE.length} characters)`);
  });

  it('leaves a value that fits as it is', () => {
    expect(shorten('abc.dkim.amazonses.com')).toBe('abc.dkim.amazonses.com');
  });

  it.each([
    [
      {
        type: 'TXT',
        name: 's1._domainkey.example.com',
        status: 'OK',
        expected: TXT_VALUE,
        found: TXT_VALUE,
      },
      ['  ✓ TXT s1._domainkey.example.com', `    found    ${shorten(TXT_VALUE)}`],
    ],
    [
      {
        type: 'TXT',
        name: 's1._domainkey.example.com',
        status: 'PARTIAL',
        expected: TXT_VALUE,
        found: TXT_VALUE.slice(0, 255),
        detail: 'only the first of 2 strings',
      },
      [
        '  ✗ TXT s1._domainkey.example.com  PARTIAL: only the first of 2 strings',
        `    found    ${shorten(TXT_VALUE.slice(0, 255))}`,
        `    expected ${shorten(TXT_VALUE)}`,
      ],
    ],
    [
      { type: 'CNAME', name: 'a._domainkey.example.com', expected: 'a.dkim.amazonses.com' },
      ['  ? CNAME a._domainkey.example.com', '    expected a.dkim.amazonses.com'],
    ],
  ])('%j reads as %j', (record, lines) => {
    expect(recordLines(record)).toEqual(lines);
  });
});

describe('status', () => {
  it('says an address has no records and why', () => {
    const lines = formatStatus({
      identity: 'ops@example.com',
      identity_type: 'EMAIL_ADDRESS',
      status: 'PENDING',
      dkim_status: null,
      records: [],
      probe: [],
      latest_run: null,
    });

    expect(lines).toEqual([
      'ops@example.com  EMAIL_ADDRESS  PENDING',
      '  run      none (the stack does not manage it)',
      '  records  none: an address is verified by the link SES mails to it',
    ]);
  });

  it('matches each probe to its record by type and name, whatever the case', () => {
    const lines = formatStatus({
      identity: 'example.com',
      identity_type: 'DOMAIN',
      status: 'DEGRADED',
      records: [{ type: 'CNAME', name: 'a._domainkey.example.com', value: 'a.dkim.amazonses.com' }],
      probe: [
        {
          type: 'CNAME',
          name: 'A._domainkey.Example.com',
          status: 'MISSING',
          found: null,
          detail: null,
        },
      ],
      checked_at: '2026-11-23T10:00:00Z',
      latest_run: null,
    });

    expect(lines.slice(-3)).toEqual([
      '    ✗ CNAME A._domainkey.Example.com  MISSING',
      '      found    nothing',
      '      expected a.dkim.amazonses.com',
    ]);
  });
});

describe('check', () => {
  it('says an address has no DNS records to look at', () => {
    const lines = formatCheck({
      identity: 'ops@example.com',
      status: 'VERIFIED',
      dkim_status: null,
      records: [],
      woke_run: false,
      checked_at: '2026-11-23T10:00:00Z',
    });

    expect(lines).toEqual([
      'ops@example.com  VERIFIED  checked 2026-11-23 10:00:00Z: 0 of 0 record(s) right',
      '  no DNS records: an address is verified by the link SES mails to it',
      'No run was waiting on this identity.',
    ]);
  });
});

describe('errors', () => {
  it("lists a 400's field problems one a line under the code and message", () => {
    const error = new ApiError(400, 'VALIDATION_ERROR', 'Invalid request', [
      { field: 'Tags[0].Key', message: 'must not begin with "aws:"' },
    ]);

    expect(formatApiError(error, 'start on the sandbox at http://127.0.0.1:3000')).toEqual([
      'start on the sandbox at http://127.0.0.1:3000: 400 VALIDATION_ERROR: Invalid request',
      '  Tags[0].Key: must not begin with "aws:"',
    ]);
  });

  it('exits 2 for what the request got wrong (400, 413, 415), 4 for the rest', () => {
    expect(
      [400, 413, 415, 403, 404, 409, 429, 500, 503].map(
        (status) => new ApiError(status, 'X', 'x').exitCode,
      ),
    ).toEqual([2, 2, 2, 4, 4, 4, 4, 4, 4]);
  });
});

describe('layout', () => {
  it('pads columns to their widest cell, counting ✓ as one character', () => {
    expect(
      table([
        ['✓', 'a'],
        ['abc', 'b'],
      ]),
    ).toEqual(['✓    a', 'abc  b']);
  });

  it('prints an instant to the second, in UTC', () => {
    expect(when('2026-11-23T10:00:00.123Z')).toBe('2026-11-23 10:00:00Z');
    expect(when(null)).toBe('-');
    expect(when('not a date')).toBe('not a date');
  });
});
