import { domainToASCII } from 'node:url';
import { signingHostedZone } from '#shared/ses/dkim-zones.js';
import type {
  CreatedIdentity,
  DkimDnsRecord,
  DmarcRequest,
  MailFromRequest,
} from '#shared/workflow/types.js';

/** Route 53's default for the DKIM records; SES re-checks for 72 hours, so a long TTL is fine. */
export const DEFAULT_DKIM_TTL = 1800;

/** A DNS character-string holds at most 255 octets (RFC 1035 §3.3). */
export const TXT_STRING_MAX = 255;

/**
 * A domain name as the records use it: trimmed, lower case, without trailing dots, and in its
 * ASCII (punycode) form, since SES and DNS only know that form.
 */
export function normalizeName(name: string): string {
  const trimmed = name.trim().replace(/\.+$/, '').toLowerCase();
  // domainToASCII returns '' for names it cannot convert (such as labels with underscores in
  // some positions); those are already ASCII, so keep them as they are.
  const ascii = [...trimmed].every((c) => c.charCodeAt(0) < 128);
  return ascii ? trimmed : domainToASCII(trimmed) || trimmed;
}

/**
 * Qualifies `name` with `domain` exactly once: `fqdn('tok._domainkey', 'Example.com.')` and
 * `fqdn('tok._domainkey.example.com', 'example.com')` both give `tok._domainkey.example.com`.
 * Lower case, no trailing dot (the form of DkimDnsRecord.name).
 */
export function fqdn(name: string, domain: string): string {
  const base = normalizeName(domain);
  const host = normalizeName(name);
  if (host === '' || host === '@') return base;
  if (base === '' || host === base || host.endsWith(`.${base}`)) return host;
  return `${host}.${base}`;
}

/** The absolute form with the trailing dot that zone files and the Route 53 API use. */
export function absoluteName(name: string): string {
  return `${normalizeName(name)}.`;
}

/** True when `name` is `zone` or a name below it (label-wise, so `badexample.com` is not below `example.com`). */
export function isSameOrSubdomain(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  return n === z || n.endsWith(`.${z}`);
}

/**
 * The name relative to its zone, as DNS consoles that append the zone name want it
 * (`tok._domainkey.mail` in the zone `example.com`); `@` for the apex.
 */
export function relativeName(name: string, zone: string): string {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (n === z) return '@';
  return n.endsWith(`.${z}`) ? n.slice(0, -(z.length + 1)) : n;
}

/** Splits a TXT value into character-strings of at most 255 characters. */
export function splitTxt(value: string, max = TXT_STRING_MAX): string[] {
  if (value === '') return [''];
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += max) parts.push(value.slice(i, i + max));
  return parts;
}

/** The DKIM key record text for a base64 SubjectPublicKeyInfo (whitespace and PEM armour removed). */
export function dkimTxtValue(publicKey: string): string {
  const key = publicKey.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return `v=DKIM1; k=rsa; p=${key}`;
}

/**
 * The DNS records SES needs to see for an identity (DESIGN.md, "DNS records"):
 * Easy DKIM, three CNAMEs `{token}._domainkey.{domain}` → `{token}.{SigningHostedZone}` (SES's
 * zone for the identity, `dkim.amazonses.com` in most Regions);
 * BYODKIM, one TXT at `{selector}._domainkey.{domain}` split into 255-character strings.
 * An email address (or an identity without DKIM details) needs none.
 */
export function dkimRecordsFor(
  identity: CreatedIdentity,
  options: { ttl?: number } = {},
): DkimDnsRecord[] {
  const ttl = options.ttl ?? DEFAULT_DKIM_TTL;
  const dkim = identity.dkim;
  if (identity.identity_type !== 'DOMAIN' || dkim === null) return [];
  const domain = normalizeName(identity.identity);

  if (dkim.origin === 'AWS_SES') {
    const zone = signingHostedZone(dkim.signing_hosted_zone);
    return dkim.tokens.map((token) => {
      const t = normalizeName(token);
      return {
        type: 'CNAME',
        name: fqdn(`${t}._domainkey`, domain),
        value: `${t}.${zone}`,
        ttl,
      };
    });
  }

  if (dkim.selector === null || dkim.public_key === null) return [];
  const value = dkimTxtValue(dkim.public_key);
  return [
    {
      type: 'TXT',
      name: fqdn(`${normalizeName(dkim.selector)}._domainkey`, domain),
      value,
      ttl,
      strings: splitTxt(value),
    },
  ];
}

/** The SPF record a custom MAIL FROM domain needs (SES developer guide, "Using a custom MAIL FROM domain"). */
export const MAIL_FROM_SPF = 'v=spf1 include:amazonses.com ~all';

/** The preference of the MAIL FROM MX record SES documents. */
export const MAIL_FROM_MX_PRIORITY = 10;

/** SES's feedback endpoint in a Region, which a MAIL FROM domain's MX record names. */
export function feedbackEndpoint(region: string): string {
  return `feedback-smtp.${region}.amazonses.com`;
}

/**
 * The records a custom MAIL FROM domain needs: an MX to SES's feedback endpoint in the identity's
 * Region, priority 10, which SES checks (MailFromDomainStatus), and an SPF TXT so that receivers
 * accept SES's servers for the domain, which SPF alignment under DMARC rests on
 * (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html).
 */
export function mailFromRecordsFor(
  mailFrom: MailFromRequest,
  region: string,
  options: { ttl?: number } = {},
): DkimDnsRecord[] {
  const ttl = options.ttl ?? DEFAULT_DKIM_TTL;
  const name = normalizeName(mailFrom.domain);
  return [
    {
      type: 'MX',
      name,
      value: feedbackEndpoint(region),
      priority: MAIL_FROM_MX_PRIORITY,
      ttl,
      part: 'mail_from',
    },
    { type: 'TXT', name, value: MAIL_FROM_SPF, strings: [MAIL_FROM_SPF], ttl, part: 'mail_from' },
  ];
}

/** `_dmarc.{domain}`, where receivers look for the domain's DMARC policy (RFC 7489 §6.1). */
export function dmarcName(domain: string): string {
  return fqdn('_dmarc', domain);
}

/** The DMARC record text for a policy and an aggregate-report address (RFC 7489 §6.3). */
export function dmarcValue(dmarc: DmarcRequest): string {
  return [`v=DMARC1`, `p=${dmarc.policy}`, ...(dmarc.rua ? [`rua=${dmarc.rua}`] : [])].join('; ');
}

/** The `_dmarc` TXT record the request asks for. */
export function dmarcRecordFor(
  domain: string,
  dmarc: DmarcRequest,
  options: { ttl?: number } = {},
): DkimDnsRecord {
  const value = dmarcValue(dmarc);
  return {
    type: 'TXT',
    name: dmarcName(domain),
    value,
    strings: splitTxt(value),
    ttl: options.ttl ?? DEFAULT_DKIM_TTL,
    part: 'dmarc',
  };
}

/** Quotes one TXT character-string for a zone file or the Route 53 API. */
export function quoteTxtString(part: string): string {
  return `"${part.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The character-strings of a TXT record (its `strings`, or its value split at 255). */
export function txtStrings(record: DkimDnsRecord): string[] {
  return record.strings ?? splitTxt(record.value);
}

/** The record's data as a zone file (and the Route 53 API) writes it. */
export function recordData(record: DkimDnsRecord): string {
  if (record.type === 'CNAME') return absoluteName(record.value);
  if (record.type === 'MX') {
    return `${record.priority ?? MAIL_FROM_MX_PRIORITY} ${absoluteName(record.value)}`;
  }
  return txtStrings(record).map(quoteTxtString).join(' ');
}

/** BIND zone-file lines (`name. ttl IN TYPE data`) for people who add the records by hand. */
export function toZoneFileLines(records: DkimDnsRecord[]): string[] {
  return records.map(
    (record) =>
      `${absoluteName(record.name)} ${record.ttl} IN ${record.type} ${recordData(record)}`,
  );
}
