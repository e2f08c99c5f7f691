import { createPublicKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';

/** SES's `VerificationInfo.ErrorType` values a DNS check can produce. */
export type DnsCheckError =
  | 'DNS_SERVER_ERROR'
  | 'HOST_NOT_FOUND'
  | 'TYPE_NOT_FOUND'
  | 'INVALID_VALUE';

export type RecordCheck = { ok: true } | { ok: false; errorType: DnsCheckError };

export interface SoaInfo {
  PrimaryNameServer: string;
  AdminEmail: string;
  SerialNumber: number;
}

/** What to look for: Easy DKIM CNAMEs, or a BYODKIM TXT carrying a known public key. */
export type DkimExpectation =
  | { origin: 'AWS_SES'; domain: string; tokens: string[]; signingHostedZone: string }
  | { origin: 'EXTERNAL'; domain: string; selector: string; publicKeyDer: Buffer };

// Worst first: a check reports the most serious problem among the records.
const SEVERITY: DnsCheckError[] = [
  'DNS_SERVER_ERROR',
  'HOST_NOT_FOUND',
  'TYPE_NOT_FOUND',
  'INVALID_VALUE',
];

function errorTypeOf(error: unknown): DnsCheckError {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOTFOUND':
    // A name no server is authoritative for looks, to a recursive resolver, like NXDOMAIN.
    case 'EREFUSED':
      return 'HOST_NOT_FOUND';
    case 'ENODATA':
      return 'TYPE_NOT_FOUND';
    default:
      return 'DNS_SERVER_ERROR';
  }
}

const trimDot = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The public key a DKIM TXT record publishes (`p=`), as SPKI DER, or undefined if unreadable. */
export function publicKeyOfDkimRecord(record: string): Buffer | undefined {
  const tags = new Map(
    record
      .split(';')
      .map((tag) => tag.trim())
      .filter(Boolean)
      .map((tag) => {
        const eq = tag.indexOf('=');
        return [tag.slice(0, eq).trim(), tag.slice(eq + 1).replace(/\s+/g, '')] as const;
      }),
  );
  const p = tags.get('p');
  if (!p || (tags.has('k') && tags.get('k') !== 'rsa')) return undefined;
  try {
    return createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' }).export({
      format: 'der',
      type: 'spki',
    });
  } catch {
    return undefined;
  }
}

/**
 * SES's DKIM check: real DNS queries, through the given servers (the sandbox DNS server), for
 * the records an identity needs.
 */
export class DkimChecker {
  private readonly resolver: Resolver;

  constructor(servers: string[] | undefined, timeoutMs = 1_000) {
    this.resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers && servers.length > 0) this.resolver.setServers(servers);
  }

  /** Points the checks at other servers (the DNS server may start after SES). */
  setServers(servers: string[]): void {
    this.resolver.setServers(servers);
  }

  async check(expected: DkimExpectation): Promise<RecordCheck> {
    const results =
      expected.origin === 'AWS_SES'
        ? await Promise.all(
            expected.tokens.map((token) =>
              this.checkCname(expected.domain, token, expected.signingHostedZone),
            ),
          )
        : [await this.checkTxt(expected.domain, expected.selector, expected.publicKeyDer)];
    for (const errorType of SEVERITY) {
      if (results.some((result) => !result.ok && result.errorType === errorType)) {
        return { ok: false, errorType };
      }
    }
    return { ok: true };
  }

  /**
   * A custom MAIL FROM domain's MX record: SES wants one that points to its feedback endpoint
   * in the region, `feedback-smtp.{region}.amazonses.com`
   * (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html). `MailFromDomainStatus` depends
   * on the MX record alone (API_MailFromAttributes); the SPF record matters to receivers.
   */
  async checkMailFromMx(domain: string, region: string): Promise<RecordCheck> {
    const wanted = `feedback-smtp.${region}.amazonses.com`;
    try {
      const records = await this.resolver.resolveMx(domain);
      return records.some((record) => trimDot(record.exchange) === wanted)
        ? { ok: true }
        : { ok: false, errorType: 'INVALID_VALUE' };
    } catch (error) {
      return { ok: false, errorType: errorTypeOf(error) };
    }
  }

  /** The domain's SOA, which SES reports in `VerificationInfo.SOARecord`. */
  async soa(domain: string): Promise<SoaInfo | undefined> {
    try {
      const soa = await this.resolver.resolveSoa(domain);
      return {
        PrimaryNameServer: soa.nsname,
        AdminEmail: soa.hostmaster,
        SerialNumber: soa.serial,
      };
    } catch {
      return undefined;
    }
  }

  private async checkCname(
    domain: string,
    token: string,
    signingHostedZone: string,
  ): Promise<RecordCheck> {
    try {
      const targets = await this.resolver.resolveCname(`${token}._domainkey.${domain}`);
      // The region's Easy DKIM zone: a CNAME into another region's zone is a wrong value.
      const wanted = `${token}.${signingHostedZone}`;
      return targets.some((target) => trimDot(target) === wanted)
        ? { ok: true }
        : { ok: false, errorType: 'INVALID_VALUE' };
    } catch (error) {
      return { ok: false, errorType: errorTypeOf(error) };
    }
  }

  private async checkTxt(
    domain: string,
    selector: string,
    publicKeyDer: Buffer,
  ): Promise<RecordCheck> {
    try {
      const records = await this.resolver.resolveTxt(`${selector}._domainkey.${domain}`);
      // A TXT record's strings are concatenated before reading, which is why keys may be split.
      const matches = records.some((strings) =>
        publicKeyOfDkimRecord(strings.join(''))?.equals(publicKeyDer),
      );
      return matches ? { ok: true } : { ok: false, errorType: 'INVALID_VALUE' };
    } catch (error) {
      return { ok: false, errorType: errorTypeOf(error) };
    }
  }
}
