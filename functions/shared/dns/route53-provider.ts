import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  type HostedZone,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
  Route53ServiceException,
} from '@aws-sdk/client-route-53';
import { isThrottling, isTransient } from '#shared/aws/classify-error.js';
import { route53Client } from '#shared/aws/clients/route53.js';
import {
  DnsChangePendingError,
  DnsPublishError,
  ServiceUnavailableError,
  ThrottlingError,
} from '#shared/workflow/errors.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';
import type { DnsProvider, DnsZone, PublishOutcome, RemoveOutcome } from './provider.js';
import { absoluteName, isSameOrSubdomain, normalizeName, recordData } from './records.js';

export interface Route53ProviderOptions {
  client?: Route53Client;
  /** How the provider waits between INSYNC polls; tests inject one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** The longest the provider waits for a change to become INSYNC before giving up. */
  changeWaitMs?: number;
  /** The first GetChange poll delay; doubles up to `pollMaxDelayMs`. */
  pollInitialDelayMs?: number;
  pollMaxDelayMs?: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Route 53 writes the records into a public hosted zone: the one named, or the public zone whose
 * name is the longest suffix of the identity's domain. All records go in one UPSERT batch, and
 * `publish` returns once Route 53 reports the change INSYNC (or fails after `changeWaitMs`).
 *
 * The provider does not retry a failed call: throttling (Throttling, PriorRequestNotComplete)
 * and 5xx become ThrottlingError and ServiceUnavailableError, which the state machine retries
 * with back-off, re-running the whole step (it is idempotent: records already there are not
 * written again). The INSYNC wait is not a retry: it polls a change that Route 53 accepted, and
 * is bounded by `changeWaitMs`.
 */
export class Route53DnsProvider implements DnsProvider {
  readonly name = 'route53';
  private readonly client: Route53Client;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly changeWaitMs: number;
  private readonly pollInitialDelayMs: number;
  private readonly pollMaxDelayMs: number;

  constructor(options: Route53ProviderOptions = {}) {
    this.client = options.client ?? route53Client;
    this.sleep = options.sleep ?? realSleep;
    this.changeWaitMs = options.changeWaitMs ?? 60_000;
    this.pollInitialDelayMs = options.pollInitialDelayMs ?? 1_000;
    this.pollMaxDelayMs = options.pollMaxDelayMs ?? 10_000;
  }

  /**
   * The zone for `domain`: `zoneId` when given (it must be public and hold the domain), else the
   * public zone with the longest name that is the domain or a parent of it. Null when none is.
   */
  async findZone(domain: string, zoneId: string | null): Promise<DnsZone | null> {
    return zoneId === null ? this.findLongestSuffixZone(domain) : this.getZone(domain, zoneId);
  }

  /** UPSERTs every record in one batch, unless they are all there already. Waits for INSYNC. */
  async publish(records: DkimDnsRecord[], zone: DnsZone | null): Promise<PublishOutcome> {
    const target = requireZone(zone);
    if (records.length === 0) {
      return { written: false, changeId: null, detail: 'no records to write' };
    }
    const current = await this.readCurrent(records, target);
    if (records.every((record, i) => matches(record, current[i] ?? null))) {
      return {
        written: true,
        changeId: null,
        detail: `all ${records.length} record(s) already in zone ${target.name}: nothing written`,
      };
    }
    const changes: Change[] = records.map((record) => ({
      Action: 'UPSERT',
      ResourceRecordSet: toRecordSet(record),
    }));
    const changeId = await this.change(target, changes, 'Publish DKIM records');
    return {
      written: true,
      changeId,
      detail: `upserted ${records.length} record(s) in zone ${target.name}; change ${changeId} is INSYNC`,
    };
  }

  /**
   * Deletes the record sets at the records' names and types (stale DKIM keys after a rotation).
   * DELETE needs the exact current values, so they are read first; absent records are skipped.
   */
  async remove(records: DkimDnsRecord[], zone: DnsZone | null): Promise<RemoveOutcome> {
    const target = requireZone(zone);
    const current = await this.readCurrent(records, target);
    const removed = records.filter((_record, index) => current[index] !== null);
    const changes: Change[] = current
      .filter((set): set is ResourceRecordSet => set !== null)
      .map((set) => ({ Action: 'DELETE', ResourceRecordSet: set }));
    if (changes.length === 0) {
      return {
        written: false,
        changeId: null,
        detail: 'none of the records exist: nothing deleted',
        removed: [],
      };
    }
    const changeId = await this.change(target, changes, 'Remove stale DKIM records');
    return {
      written: true,
      changeId,
      detail: `deleted ${changes.length} record(s) from zone ${target.name}; change ${changeId} is INSYNC`,
      removed,
    };
  }

  private async getZone(domain: string, zoneId: string): Promise<DnsZone> {
    const id = stripPrefix(zoneId);
    const response = await this.call('GetHostedZone', () =>
      this.client.send(new GetHostedZoneCommand({ Id: id })),
    );
    const zone = response.HostedZone;
    if (zone === undefined) throw new DnsPublishError(`Route 53 returned no hosted zone ${id}`);
    const name = decodeName(zone.Name ?? '');
    if (zone.Config?.PrivateZone === true) {
      throw new DnsPublishError(
        `Hosted zone ${id} (${name}) is private: SES cannot see records in a private zone`,
      );
    }
    if (!isSameOrSubdomain(domain, name)) {
      throw new DnsPublishError(
        `Hosted zone ${id} (${name}) does not hold ${normalizeName(domain)}`,
      );
    }
    return { id, name };
  }

  private async findLongestSuffixZone(domain: string): Promise<DnsZone | null> {
    const candidates: HostedZone[] = [];
    let dnsName: string | undefined;
    let hostedZoneId: string | undefined;
    // ListHostedZonesByName orders by reversed labels, so a domain's parents sort before it and
    // starting at the domain would miss them: walk every page and filter.
    do {
      const page = await this.call('ListHostedZonesByName', () =>
        this.client.send(
          new ListHostedZonesByNameCommand({
            DNSName: dnsName,
            HostedZoneId: hostedZoneId,
            MaxItems: 100,
          }),
        ),
      );
      for (const zone of page.HostedZones ?? []) {
        if (zone.Config?.PrivateZone === true) continue;
        if (isSameOrSubdomain(domain, decodeName(zone.Name ?? ''))) candidates.push(zone);
      }
      if (page.IsTruncated !== true) break;
      dnsName = page.NextDNSName;
      hostedZoneId = page.NextHostedZoneId;
    } while (dnsName !== undefined);

    if (candidates.length === 0) return null;
    const longest = Math.max(...candidates.map((z) => decodeName(z.Name ?? '').length));
    const best = candidates.filter((z) => decodeName(z.Name ?? '').length === longest);
    const [first] = best;
    if (first === undefined) return null;
    const name = decodeName(first.Name ?? '');
    if (best.length > 1) {
      // Only one of them is delegated, and Route 53 cannot tell us which: ask, do not guess.
      throw new DnsPublishError(
        `Several public hosted zones are named ${name} (${best.map((z) => stripPrefix(z.Id ?? '')).join(', ')}); name one with Dns.HostedZoneId`,
      );
    }
    return { id: stripPrefix(first.Id ?? ''), name };
  }

  /** The current record set at each record's name and type (null where there is none). */
  private async readCurrent(
    records: DkimDnsRecord[],
    zone: DnsZone,
  ): Promise<(ResourceRecordSet | null)[]> {
    const found: (ResourceRecordSet | null)[] = [];
    // One call per record, in turn: Route 53 allows five requests a second per account.
    for (const record of records) {
      const page = await this.call('ListResourceRecordSets', () =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zone.id,
            StartRecordName: absoluteName(record.name),
            StartRecordType: record.type,
            MaxItems: 1,
          }),
        ),
      );
      const set = page.ResourceRecordSets?.[0];
      const same =
        set !== undefined &&
        set.Type === record.type &&
        set.SetIdentifier === undefined &&
        decodeName(set.Name ?? '') === normalizeName(record.name);
      found.push(same ? set : null);
    }
    return found;
  }

  /** Submits one change batch and waits for it to be INSYNC. Returns the change id. */
  private async change(zone: DnsZone, changes: Change[], comment: string): Promise<string> {
    const response = await this.call('ChangeResourceRecordSets', () =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.id,
          ChangeBatch: { Comment: comment, Changes: changes },
        }),
      ),
    );
    const changeId = stripPrefix(response.ChangeInfo?.Id ?? '');
    if (changeId === '')
      throw new DnsPublishError('Route 53 accepted the change but returned no id');
    await this.waitForInsync(changeId, response.ChangeInfo?.Status ?? 'PENDING');
    return changeId;
  }

  private async waitForInsync(changeId: string, initialStatus: string): Promise<void> {
    let status = initialStatus;
    let waited = 0;
    let delay = this.pollInitialDelayMs;
    while (status !== 'INSYNC') {
      if (waited >= this.changeWaitMs) {
        throw new DnsChangePendingError(
          `Route 53 change ${changeId} is still ${status} after ${Math.round(waited / 1000)} s`,
        );
      }
      const pause = Math.min(delay, this.changeWaitMs - waited);
      await this.sleep(pause);
      waited += pause;
      delay = Math.min(delay * 2, this.pollMaxDelayMs);
      const response = await this.call('GetChange', () =>
        this.client.send(new GetChangeCommand({ Id: changeId })),
      );
      status = response.ChangeInfo?.Status ?? 'PENDING';
    }
  }

  /** Runs one API call and maps a failure to the error class the state machine acts on. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toDnsError(operation, error);
    }
  }
}

function requireZone(zone: DnsZone | null): DnsZone {
  if (zone === null) throw new DnsPublishError('The route53 provider needs a hosted zone');
  return zone;
}

function toRecordSet(record: DkimDnsRecord): ResourceRecordSet {
  return {
    Name: absoluteName(record.name),
    Type: record.type,
    TTL: record.ttl,
    // One ResourceRecord: a TXT value is its quoted strings side by side, `"part1" "part2"`.
    ResourceRecords: [{ Value: recordData(record) }],
  };
}

function matches(record: DkimDnsRecord, set: ResourceRecordSet | null): boolean {
  if (set === null || set.TTL !== record.ttl) return false;
  const values = set.ResourceRecords ?? [];
  const [only] = values;
  if (values.length !== 1 || only?.Value === undefined) return false;
  return record.type === 'CNAME'
    ? normalizeName(only.Value) === normalizeName(record.value)
    : parseTxtStrings(only.Value).join('') === record.value;
}

/** The character-strings of a Route 53 TXT value (`"a" "b\"c"` → `['a', 'b"c']`). */
export function parseTxtStrings(value: string): string[] {
  const parts: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (const match of value.matchAll(pattern)) {
    parts.push(
      (match[1] ?? '').replace(/\\(\d{3}|.)/g, (_, c: string) =>
        c.length === 3 ? String.fromCharCode(Number.parseInt(c, 8)) : c,
      ),
    );
  }
  return parts.length === 0 ? [value] : parts;
}

/** Route 53 names end in a dot and escape some characters as `\ddd` (octal). */
function decodeName(name: string): string {
  return normalizeName(
    name.replace(/\\(\d{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    ),
  );
}

/** `/hostedzone/Z123` and `/change/C123` → the bare id, which every API call accepts. */
function stripPrefix(id: string): string {
  return id.replace(/^\/(hostedzone|change)\//, '');
}

/**
 * Throttling and 5xx are retried by the state machine; any other answer from Route 53 (no such
 * zone, an invalid change batch, access denied) is a DnsPublishError no retry will fix. An error
 * that is not Route 53's at all is a bug of ours, best reported as it is.
 */
function toDnsError(operation: string, error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error), { cause: error });
  const message = `Route 53 ${operation} failed: ${error.name}: ${error.message}`;
  if (isThrottling(error)) return new ThrottlingError(message, { cause: error });
  if (isTransient(error)) return new ServiceUnavailableError(message, { cause: error });
  if (error instanceof Route53ServiceException)
    return new DnsPublishError(message, { cause: error });
  return error;
}
