import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { route53Client } from '#shared/aws/clients/route53.js';
import { DnsChangePendingError, DnsPublishError } from '#shared/workflow/errors.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';
import type { DnsZone, PublishOutcome, RemoveOutcome } from './provider.js';
import { absoluteName, normalizeName, recordData } from './records.js';
import { decodeName, route53Call, stripPrefix } from './route53-api.js';

export interface Route53RecordSetsOptions {
  client?: Route53Client;
  /** How the INSYNC wait sleeps between polls; tests inject one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** The longest the wait for a change to become INSYNC lasts before giving up. */
  changeWaitMs?: number;
  /** The first GetChange poll delay; doubles up to `pollMaxDelayMs`. */
  pollInitialDelayMs?: number;
  pollMaxDelayMs?: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The DKIM record sets in a known Route 53 zone: UPSERTed or DELETEd in one change batch, each
 * change waited on until Route 53 reports it INSYNC. The INSYNC wait is not a retry: it polls a
 * change Route 53 accepted, bounded by `changeWaitMs`.
 */
export class Route53RecordSets {
  readonly name = 'route53';
  private readonly client: Route53Client;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly changeWaitMs: number;
  private readonly pollInitialDelayMs: number;
  private readonly pollMaxDelayMs: number;

  constructor(options: Route53RecordSetsOptions = {}) {
    this.client = options.client ?? route53Client;
    this.sleep = options.sleep ?? realSleep;
    this.changeWaitMs = options.changeWaitMs ?? 60_000;
    this.pollInitialDelayMs = options.pollInitialDelayMs ?? 1_000;
    this.pollMaxDelayMs = options.pollMaxDelayMs ?? 10_000;
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
    const changes: Change[] = records
      // A DMARC record already there is ours from an earlier attempt (the step keeps any other).
      .filter((record, i) => !(record.part === 'dmarc' && (current[i] ?? null) !== null))
      .map((record) => ({
        // A DMARC record is the domain owner's policy: CREATE fails rather than overwrite one
        // that appeared since PublishDnsRecords looked (the step then runs again and keeps it).
        Action: record.part === 'dmarc' ? 'CREATE' : 'UPSERT',
        ResourceRecordSet: toRecordSet(record),
      }));
    const changeId = await this.change(target, changes, 'Publish DKIM records');
    return {
      written: true,
      changeId,
      detail: `upserted ${records.length} record(s) in zone ${target.name}; change ${changeId} is INSYNC`,
    };
  }

  /** The values of the record set at `name` and `type` in the zone (TXT strings joined); none: []. */
  async valuesAt(name: string, type: DkimDnsRecord['type'], zone: DnsZone): Promise<string[]> {
    const [set] = await this.readCurrent([{ type, name, value: '', ttl: 1 }], zone);
    return (set?.ResourceRecords ?? []).map((record) =>
      type === 'TXT' ? parseTxtStrings(record.Value ?? '').join('') : (record.Value ?? ''),
    );
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

  /** The current record set at each record's name and type (null where there is none). */
  private async readCurrent(
    records: DkimDnsRecord[],
    zone: DnsZone,
  ): Promise<(ResourceRecordSet | null)[]> {
    const found: (ResourceRecordSet | null)[] = [];
    // One call per record, in turn: Route 53 allows five requests a second per account.
    for (const record of records) {
      const page = await route53Call('ListResourceRecordSets', () =>
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
    const response = await route53Call('ChangeResourceRecordSets', () =>
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
      const response = await route53Call('GetChange', () =>
        this.client.send(new GetChangeCommand({ Id: changeId })),
      );
      status = response.ChangeInfo?.Status ?? 'PENDING';
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
  if (record.type === 'CNAME') return normalizeName(only.Value) === normalizeName(record.value);
  if (record.type === 'MX')
    return only.Value.replace(/\.$/, '') === recordData(record).replace(/\.$/, '');
  return parseTxtStrings(only.Value).join('') === record.value;
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
