import { describe, expect, it } from 'vitest';
import { summariseProbe } from '#shared/dns/diagnose.js';
import type { ProbeResult } from '#shared/workflow/types.js';

const result = (
  name: string,
  status: ProbeResult['status'],
  extra: Partial<ProbeResult> = {},
): ProbeResult => ({
  name,
  type: 'CNAME',
  status,
  expected: `${name.split('.')[0]}.dkim.amazonses.com`,
  found: null,
  detail: null,
  ...extra,
});

describe('summariseProbe', () => {
  it('says nothing when there was no probe', () => {
    expect(summariseProbe([])).toBe('');
  });

  it('says all is well when every record is right', () => {
    expect(summariseProbe([result('a._domainkey.example.com', 'OK')])).toBe(
      'All 1 DKIM records are in DNS as expected.',
    );
  });

  it('names every missing record in one sentence', () => {
    const text = summariseProbe([
      result('a._domainkey.example.com', 'MISSING'),
      result('b._domainkey.example.com', 'MISSING'),
    ]);
    expect(text).toBe(
      '2 of 2 DKIM records are not right. Missing: CNAME a._domainkey.example.com, CNAME b._domainkey.example.com; add them with the values in "records" (or "zone_file").',
    );
  });

  it('groups lookup errors by their DNS code', () => {
    const text = summariseProbe([
      result('a._domainkey.example.com', 'ERROR', { detail: 'ESERVFAIL: queryCname ESERVFAIL a' }),
      result('b._domainkey.example.com', 'ERROR', { detail: 'ESERVFAIL: queryCname ESERVFAIL b' }),
    ]);
    expect(text.match(/Could not be looked up/g)).toHaveLength(1);
    expect(text).toContain(
      '(ESERVFAIL): CNAME a._domainkey.example.com, CNAME b._domainkey.example.com',
    );
  });

  it('explains a record entered with the domain twice', () => {
    const text = summariseProbe([
      result('a._domainkey.example.com', 'DUPLICATED_DOMAIN', {
        found: 'a._domainkey.example.com.example.com',
      }),
    ]);
    expect(text).toContain('your DNS provider appends the domain itself');
  });
});
