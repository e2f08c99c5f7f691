import { promises as dns } from 'node:dns';
import type { DkimDnsRecord, ProbeResult } from '#shared/workflow/types.js';
import { normalizeName } from './records.js';

export interface ProbeOptions {
  /** Resolvers as `host` or `host:port` (`127.0.0.1:5300`); empty or absent: the system's. */
  resolvers?: string[];
  /** Timeout of one query, in milliseconds (default 2000). */
  timeoutMs?: number;
  /** Bound on the whole probe, in milliseconds (default 10000); unfinished records are ERROR. */
  totalTimeoutMs?: number;
  /** Also ask the domain's authoritative name servers when they can be reached (default true). */
  queryAuthoritative?: boolean;
  /** The identity's domain, for the DUPLICATED_DOMAIN check; else taken from `…._domainkey.{domain}`. */
  domain?: string;
  /** The zone the records were published in, when known: checked for duplication too. */
  zoneName?: string;
  /** Port the authoritative servers listen on (53; the sandbox and tests use their own). */
  authoritativePort?: number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_TOTAL_TIMEOUT_MS = 10_000;
/** Authoritative servers are a bonus: give them little time, since unreachable is normal. */
const AUTHORITATIVE_TIMEOUT_MS = 1_000;
const MAX_AUTHORITATIVE_SERVERS = 4;

/** What one DNS question got back. */
type Answer =
  | { kind: 'values'; values: string[] }
  | { kind: 'none'; code: string }
  | { kind: 'error'; code: string; message: string };

type Classified = Omit<ProbeResult, 'name' | 'type' | 'expected'>;

/** Answers meaning "the name or the data does not exist". */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Asks DNS whether each expected record is there and right: the configured resolvers and, when
 * they answer, the domain's authoritative name servers, whose answer wins over a resolver's
 * (possibly cached) one. Every query has a timeout and the whole probe a bound; one result per
 * record, in order: OK, MISSING, WRONG_VALUE, DUPLICATED_DOMAIN, PARTIAL or ERROR.
 */
export async function probeRecords(
  records: DkimDnsRecord[],
  options: ProbeOptions = {},
): Promise<ProbeResult[]> {
  if (records.length === 0) return [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const totalTimeoutMs = options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  if (options.resolvers !== undefined && options.resolvers.length > 0) {
    resolver.setServers(options.resolvers);
  }
  const domain = normalizeName(options.domain ?? domainOf(records[0]?.name ?? ''));
  const authoritative: dns.Resolver[] = [];
  const authoritativeResolver =
    options.queryAuthoritative === false
      ? Promise.resolve(null)
      : authoritativeResolverFor(resolver, domain, {
          timeoutMs: Math.min(timeoutMs, AUTHORITATIVE_TIMEOUT_MS),
          port: options.authoritativePort ?? 53,
        }).then((found) => {
          if (found !== null) authoritative.push(found);
          return found;
        });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), totalTimeoutMs);
  });
  try {
    return await Promise.all(
      records.map(async (record) => {
        const outcome = await Promise.race([
          probeOne(record, resolver, authoritativeResolver, domain, options.zoneName),
          deadline,
        ]);
        if (outcome !== 'deadline') return outcome;
        return result(record, {
          status: 'ERROR',
          found: null,
          detail: `no answer within the probe's bound of ${totalTimeoutMs} ms`,
        });
      }),
    );
  } finally {
    clearTimeout(timer);
    // Queries still in flight after the bound would otherwise hold the event loop.
    resolver.cancel();
    for (const r of authoritative) r.cancel();
  }
}

async function probeOne(
  record: DkimDnsRecord,
  resolver: dns.Resolver,
  authoritativeResolver: Promise<dns.Resolver | null>,
  domain: string,
  zoneName: string | undefined,
): Promise<ProbeResult> {
  const [recursive, authority] = await Promise.all([
    ask(resolver, record.type, record.name),
    authoritativeResolver.then((auth) =>
      auth === null ? null : ask(auth, record.type, record.name),
    ),
  ]);
  let classified = classify(record, recursive);
  // An authoritative answer (not an error: unreachable is normal) wins over a stale cache.
  if (authority !== null && authority.kind !== 'error') {
    const fromAuthority = classify(record, authority);
    if (fromAuthority.status !== classified.status) {
      fromAuthority.detail = joinDetail(
        fromAuthority.detail,
        `authoritative answer; the resolvers still say ${classified.status}`,
      );
    }
    classified = fromAuthority;
  }
  if (classified.status === 'MISSING') {
    const duplicate = await findDuplicate(record, resolver, [domain, zoneName ?? '']);
    if (duplicate !== null) classified = duplicate;
  }
  return result(record, classified);
}

/** The classic mistake: the full name typed into a console that appends the zone again. */
async function findDuplicate(
  record: DkimDnsRecord,
  resolver: dns.Resolver,
  suffixes: string[],
): Promise<Classified | null> {
  const seen = new Set<string>();
  for (const suffix of suffixes.map(normalizeName)) {
    if (suffix === '' || seen.has(suffix)) continue;
    seen.add(suffix);
    const duplicateName = `${normalizeName(record.name)}.${suffix}`;
    const answer = await ask(resolver, record.type, duplicateName);
    if (answer.kind !== 'values') continue;
    const there = classify(record, answer);
    return {
      status: 'DUPLICATED_DOMAIN',
      found: duplicateName,
      detail: `the record is at ${duplicateName} (value ${there.status === 'OK' ? 'correct' : 'also wrong'}): the DNS console appended the domain to a name that already had it; enter only the part before the domain`,
    };
  }
  return null;
}

async function ask(
  resolver: dns.Resolver,
  type: DkimDnsRecord['type'],
  name: string,
): Promise<Answer> {
  try {
    const values =
      type === 'CNAME'
        ? await resolver.resolveCname(name)
        : type === 'MX'
          ? (await resolver.resolveMx(name)).map((mx) => mx.exchange)
          : // A TXT record is a list of strings that DNS stores apart and DKIM reads joined.
            (await resolver.resolveTxt(name)).map((strings) => strings.join(''));
    return values.length === 0 ? { kind: 'none', code: 'ENODATA' } : { kind: 'values', values };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (ABSENT.has(code)) return { kind: 'none', code };
    return { kind: 'error', code, message: (error as Error).message };
  }
}

function classify(record: DkimDnsRecord, answer: Answer): Classified {
  if (answer.kind === 'error') {
    return { status: 'ERROR', found: null, detail: `${answer.code}: ${answer.message}` };
  }
  if (answer.kind === 'none') {
    return {
      status: 'MISSING',
      found: null,
      detail:
        answer.code === 'ENOTFOUND'
          ? 'the name does not exist (NXDOMAIN)'
          : `the name has no ${record.type} record`,
    };
  }
  if (record.type === 'CNAME' || record.type === 'MX') {
    const expected = normalizeName(record.value);
    if (answer.values.some((v) => normalizeName(v) === expected)) {
      return { status: 'OK', found: null, detail: null };
    }
    return {
      status: 'WRONG_VALUE',
      found: answer.values.join(', '),
      detail:
        record.type === 'MX'
          ? `the MX record names ${answer.values.join(', ')} instead of ${expected}`
          : `the CNAME points to ${answer.values.join(', ')} instead of ${expected}`,
    };
  }
  if (record.part === 'mail_from') return classifySpf(record, answer.values);
  if (record.part === 'dmarc') return classifyDmarc(answer.values);
  return classifyTxt(record, answer.values);
}

/**
 * A MAIL FROM domain's SPF: one `v=spf1` record (two are an SPF error, RFC 7208 §4.5) that
 * includes amazonses.com; other TXT records at the name do not matter.
 */
function classifySpf(record: DkimDnsRecord, texts: string[]): Classified {
  const spf = texts.filter((text) => /^v=spf1(\s|$)/i.test(text.trim()));
  if (spf.length === 0) {
    return { status: 'MISSING', found: null, detail: 'the name has no SPF (v=spf1) record' };
  }
  if (spf.length > 1) {
    return {
      status: 'WRONG_VALUE',
      found: spf.join(' | '),
      detail: 'the name has several SPF records, which receivers treat as an error: keep one',
    };
  }
  const [only = ''] = spf;
  return /(^|\s)[+]?include:amazonses\.com(\s|$)/i.test(only)
    ? { status: 'OK', found: null, detail: null }
    : {
        status: 'WRONG_VALUE',
        found: only,
        detail: `the SPF record does not include amazonses.com (expected ${record.value})`,
      };
}

/** A domain's DMARC policy: exactly one `v=DMARC1` record (RFC 7489 §6.6.3); whose it is does not matter. */
function classifyDmarc(texts: string[]): Classified {
  const dmarc = texts.filter((text) => /^v=DMARC1\s*(;|$)/i.test(text.trim()));
  if (dmarc.length === 1) return { status: 'OK', found: dmarc[0] ?? null, detail: null };
  if (dmarc.length === 0) {
    return { status: 'MISSING', found: null, detail: 'the name has no DMARC (v=DMARC1) record' };
  }
  return {
    status: 'WRONG_VALUE',
    found: dmarc.join(' | '),
    detail: 'the name has several DMARC records, so receivers apply none: keep one',
  };
}

/**
 * The TXT records at `name` as DNS answers now (strings joined), [] when there are none; a DNS
 * error is thrown. PublishDnsRecords asks before writing DMARC where no provider zone can tell.
 */
export async function lookupTxt(name: string, options: ProbeOptions = {}): Promise<string[]> {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, tries: 2 });
  if (options.resolvers !== undefined && options.resolvers.length > 0) {
    resolver.setServers(options.resolvers);
  }
  const answer = await ask(resolver, 'TXT', name);
  if (answer.kind === 'error') throw new Error(`${answer.code}: ${answer.message}`);
  return answer.kind === 'values' ? answer.values : [];
}

function classifyTxt(record: DkimDnsRecord, texts: string[]): Classified {
  const expected = dkimTags(record.value);
  const expectedKey = expected.get('p') ?? '';
  let partial: Classified | null = null;
  for (const text of texts) {
    const tags = dkimTags(text);
    const key = tags.get('p');
    if (
      text === record.value ||
      (tags.get('v') === 'DKIM1' &&
        key === expectedKey &&
        (tags.get('k') ?? 'rsa') === (expected.get('k') ?? 'rsa'))
    ) {
      return { status: 'OK', found: null, detail: null };
    }
    // A key cut short, usually a 255-character string pasted without the next one.
    if (
      partial === null &&
      tags.get('v') === 'DKIM1' &&
      key !== undefined &&
      key !== '' &&
      key.length < expectedKey.length
    ) {
      partial = {
        status: 'PARTIAL',
        found: text,
        detail: `the key has ${key.length} of ${expectedKey.length} characters${expectedKey.startsWith(key) ? ' (a prefix of the right key)' : ''}: was a TXT string left out?`,
      };
    }
  }
  if (partial !== null) return partial;
  const found = texts.join(' | ');
  const revoked = texts.some((t) => dkimTags(t).get('p') === '');
  return {
    status: 'WRONG_VALUE',
    found,
    detail: revoked
      ? 'the record has an empty p= (a revoked key)'
      : 'the TXT record holds another value',
  };
}

/** DKIM tag=value pairs (RFC 6376 §3.2); whitespace inside values is not significant. */
function dkimTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

/**
 * A resolver for the domain's authoritative servers, or null when they cannot be found: the
 * NS records of the closest enclosing zone, and their IPv4 addresses.
 */
async function authoritativeResolverFor(
  resolver: dns.Resolver,
  domain: string,
  options: { timeoutMs: number; port: number },
): Promise<dns.Resolver | null> {
  const labels = domain.split('.').filter((l) => l !== '');
  // Walk up from the domain to the registrable level; a TLD's servers know nothing useful.
  for (let i = 0; i + 2 <= labels.length; i++) {
    const zone = labels.slice(i).join('.');
    let nameServers: string[];
    try {
      nameServers = await resolver.resolveNs(zone);
    } catch (error) {
      if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) continue;
      return null;
    }
    if (nameServers.length === 0) continue;
    const addresses = new Set<string>();
    for (const host of nameServers.slice(0, MAX_AUTHORITATIVE_SERVERS)) {
      try {
        for (const address of await resolver.resolve4(host)) addresses.add(address);
      } catch {
        // A name server without an address is skipped: the others may answer.
      }
    }
    if (addresses.size === 0) return null;
    const auth = new dns.Resolver({ timeout: options.timeoutMs, tries: 1 });
    auth.setServers(
      [...addresses].slice(0, MAX_AUTHORITATIVE_SERVERS).map((a) => `${a}:${options.port}`),
    );
    return auth;
  }
  return null;
}

/** `{selector}._domainkey.{domain}` → `{domain}`. */
function domainOf(name: string): string {
  const n = normalizeName(name);
  const at = n.indexOf('._domainkey.');
  return at < 0 ? '' : n.slice(at + '._domainkey.'.length);
}

function joinDetail(a: string | null, b: string): string {
  return a === null ? b : `${a}; ${b}`;
}

function result(record: DkimDnsRecord, classified: Classified): ProbeResult {
  return {
    name: record.name,
    type: record.type,
    status: classified.status,
    expected: record.value,
    found: classified.found,
    detail: classified.detail,
  };
}
