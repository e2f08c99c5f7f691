import { describe, expect, it } from 'vitest';
import {
  dkimRecordsFor,
  fqdn,
  normalizeName,
  relativeName,
  splitTxt,
  toZoneFileLines,
} from '#shared/dns/records.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import byodkim from '../../../../events/publish-dns-records-byodkim.json' with { type: 'json' };
import easyDkim from '../../../../events/publish-dns-records-easy-dkim.json' with { type: 'json' };
import emailAddress from '../../../../events/publish-dns-records-email-address.json' with {
  type: 'json',
};

const easy = easyDkim as CreatedIdentity;
const byo = byodkim as CreatedIdentity;

describe('fqdn', () => {
  it.each([
    ['tok._domainkey', 'example.com', 'tok._domainkey.example.com'],
    ['tok._domainkey', 'Example.COM.', 'tok._domainkey.example.com'],
    ['tok._domainkey.example.com', 'example.com', 'tok._domainkey.example.com'],
    ['tok._domainkey.example.com.', 'example.com.', 'tok._domainkey.example.com'],
    ['TOK._domainkey.Mail.Example.com', 'mail.example.com', 'tok._domainkey.mail.example.com'],
    ['tok._domainkey', 'mail.example.com', 'tok._domainkey.mail.example.com'],
    ['tok._domainkey', 'Bücher.de', 'tok._domainkey.xn--bcher-kva.de'],
    ['@', 'example.com', 'example.com'],
    // Only a whole-label suffix counts: badexample.com is not below example.com.
    ['badexample.com', 'example.com', 'badexample.com.example.com'],
  ])('qualifies %s in %s exactly once as %s', (name, domain, expected) => {
    expect(fqdn(name, domain)).toBe(expected);
  });
});

describe('names', () => {
  it('normalizes trailing dots, case and spaces', () => {
    expect(normalizeName('  Mail.Example.COM.. ')).toBe('mail.example.com');
  });

  it.each([
    ['tok._domainkey.mail.example.com', 'example.com', 'tok._domainkey.mail'],
    ['example.com', 'example.com', '@'],
    ['other.org', 'example.com', 'other.org'],
  ])('gives %s relative to zone %s as %s', (name, zone, expected) => {
    expect(relativeName(name, zone)).toBe(expected);
  });
});

describe('splitTxt', () => {
  it.each([
    [0, 1],
    [255, 1],
    [256, 2],
    [510, 2],
    [511, 3],
  ])('splits %i characters into %i strings of at most 255', (length, count) => {
    const value = 'a'.repeat(length);
    const parts = splitTxt(value);
    expect(parts).toHaveLength(count);
    expect(parts.every((p) => p.length <= 255)).toBe(true);
    expect(parts.join('')).toBe(value);
  });
});

describe('dkimRecordsFor', () => {
  it('derives three CNAMEs for Easy DKIM, pointing to dkim.amazonses.com', () => {
    const records = dkimRecordsFor(easy);
    expect(records).toEqual(
      easy.dkim?.tokens.map((token) => ({
        type: 'CNAME',
        name: `${token}._domainkey.example.com`,
        value: `${token}.dkim.amazonses.com`,
        ttl: 1800,
      })),
    );
  });

  it("points the CNAMEs into SES's SigningHostedZone when it names another zone", () => {
    const regional = {
      ...easy,
      dkim: easy.dkim && { ...easy.dkim, signing_hosted_zone: 'dkim.af-south-1.amazonses.com' },
    };
    expect(dkimRecordsFor(regional).map((r) => r.value)).toEqual(
      easy.dkim?.tokens.map((token) => `${token}.dkim.af-south-1.amazonses.com`),
    );
  });

  it('qualifies names once when the identity has a trailing dot and upper case', () => {
    const records = dkimRecordsFor({ ...easy, identity: 'Example.COM.' });
    expect(records.map((r) => r.name)).toEqual(
      easy.dkim?.tokens.map((token) => `${token}._domainkey.example.com`),
    );
  });

  it('derives one TXT for BYODKIM at the selector, split into 255-character strings', () => {
    const [record, ...rest] = dkimRecordsFor(byo);
    expect(rest).toEqual([]);
    expect(record?.type).toBe('TXT');
    expect(record?.name).toBe('s2026._domainkey.mail.example.com');
    expect(record?.value).toBe(`v=DKIM1; k=rsa; p=${byo.dkim?.public_key}`);
    expect(record?.strings?.length).toBe(2);
    expect(record?.strings?.every((s) => s.length <= 255)).toBe(true);
    expect(record?.strings?.join('')).toBe(record?.value);
  });

  it('uses the TTL it is given', () => {
    expect(dkimRecordsFor(easy, { ttl: 300 }).map((r) => r.ttl)).toEqual([300, 300, 300]);
  });

  it('derives nothing for an email address', () => {
    expect(dkimRecordsFor(emailAddress as CreatedIdentity)).toEqual([]);
  });
});

describe('toZoneFileLines', () => {
  it('writes absolute names, the TTL and CNAME targets with a trailing dot', () => {
    const [line] = toZoneFileLines(dkimRecordsFor(easy).slice(0, 1));
    const token = easy.dkim?.tokens[0];
    expect(line).toBe(
      `${token}._domainkey.example.com. 1800 IN CNAME ${token}.dkim.amazonses.com.`,
    );
  });

  it('writes a TXT as its quoted strings side by side', () => {
    const [record] = dkimRecordsFor(byo);
    const [line] = toZoneFileLines(dkimRecordsFor(byo));
    const strings = record?.strings ?? [];
    expect(line).toBe(
      `s2026._domainkey.mail.example.com. 1800 IN TXT "${strings[0]}" "${strings[1]}"`,
    );
  });
});
