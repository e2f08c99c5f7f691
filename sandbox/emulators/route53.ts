import { randomInt, randomUUID } from 'node:crypto';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { AwsRequest, AwsResponse, EmulatedService } from '#sandbox/aws/service.js';
import {
  compareAscii,
  fqdn,
  isValidDomainName,
  isWithin,
  parseTxtValue,
  reversedLabels,
} from './dns-names.js';
import { type RecordSet, RecordSetIndex } from './route53-records.js';
import {
  AwsServiceError,
  FaultInjector,
  type FaultOptions,
  type Now,
  seededRandom,
  systemNow,
} from './wire.js';

const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const RR_TYPES = new Set([
  'SOA',
  'A',
  'TXT',
  'NS',
  'CNAME',
  'MX',
  'NAPTR',
  'PTR',
  'SRV',
  'SPF',
  'AAAA',
  'CAA',
  'DS',
  'TLSA',
  'SSHFP',
  'SVCB',
  'HTTPS',
]);

export type { RecordSet } from './route53-records.js';

export interface HostedZone {
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  nameServers: string[];
  /** What the API shows: every accepted change, INSYNC or not. */
  records: RecordSetIndex;
  /** What the name servers answer: only changes that are INSYNC. */
  published: RecordSetIndex;
}

interface ChangeBatchRecord {
  id: string;
  zoneId: string;
  submittedAt: Date;
  insyncAt: Date;
  comment?: string;
  operations: Array<{ action: 'CREATE' | 'UPSERT' | 'DELETE'; set: RecordSet }>;
  applied: boolean;
}

/** What the sandbox DNS server learns about a queried name. */
export type ZoneLookup =
  | { kind: 'no-zone' }
  | {
      kind: 'zone';
      zoneName: string;
      soa: RecordSet | undefined;
      /** Published record sets at exactly this name. */
      sets: RecordSet[];
      /** The name exists: it has records, or names below it do (an empty non-terminal). */
      exists: boolean;
    };

export interface Route53EmulatorOptions {
  now?: Now;
  /** Virtual milliseconds from a change's submission to INSYNC. Default 2 000. */
  insyncDelayMs?: number;
  /**
   * Route 53's account rate and faults. By default the account-wide bucket Route 53 documents:
   * 10 requests per second, 50 at once; `rateLimit: 0` turns it off.
   */
  faults?: FaultOptions;
  /**
   * Share (0..1) of change batches sent to a zone whose previous change is still PENDING that
   * are refused with PriorRequestNotComplete. Default 0.
   */
  priorRequestRate?: number;
}

/** A TXT value as Route 53 takes it: one or more `"..."` strings (`\"` escapes a quote). */
const QUOTED_STRINGS = /^\s*"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*\s*$/;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function resourceId(prefix: string, length: number): string {
  let id = prefix;
  for (let i = 0; i < length; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function sameValues(a: string[], b: string[]): boolean {
  const normalise = (values: string[]) => values.map((v) => v.trim().toLowerCase()).sort();
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'Change' || name === 'ResourceRecord',
});
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

function xml(rootName: string, content: Record<string, unknown>, status = 200): AwsResponse {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({
    [rootName]: { '@_xmlns': XMLNS, ...content },
  })}`;
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
    body,
  };
}

function xmlError(error: AwsServiceError): AwsResponse {
  const body = `<?xml version="1.0"?>\n${builder.build({
    ErrorResponse: {
      '@_xmlns': XMLNS,
      Error: { Type: error.fault, Code: error.code, Message: error.message },
      RequestId: randomUUID(),
    },
  })}`;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
    body,
    errorCode: error.code,
  };
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value === undefined ? undefined : String(value);

function maxItemsOf(query: URLSearchParams, fallback: number, max = fallback): number {
  const raw = query.get('maxitems');
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new AwsServiceError(
      'InvalidInput',
      `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint`,
    );
  }
  return Math.min(value, max);
}

const stripPrefix = (id: string, prefix: string) =>
  id.startsWith(prefix) ? id.slice(prefix.length) : id;

/**
 * Route 53 (REST-XML): hosted zones with their SOA and NS sets, atomic change batches with
 * Route 53's validation errors, changes PENDING then INSYNC after a virtual delay, and paginated
 * listings. Its INSYNC view feeds the sandbox DNS server.
 */
export class Route53Emulator implements EmulatedService {
  readonly signingName = 'route53';
  readonly serviceName = 'route53';
  readonly operations = [
    'CreateHostedZone',
    'GetHostedZone',
    'ListHostedZones',
    'ListHostedZonesByName',
    'ChangeResourceRecordSets',
    'ListResourceRecordSets',
    'GetChange',
  ] as const;
  private readonly now: Now;
  private readonly insyncDelayMs: number;
  private readonly zones = new Map<string, HostedZone>();
  private readonly changes = new Map<string, ChangeBatchRecord>();
  private readonly pending: ChangeBatchRecord[] = [];
  private readonly faults: FaultInjector;
  private readonly priorRequestRate: number;
  private readonly random: () => number;

  constructor(options: Route53EmulatorOptions = {}) {
    this.now = options.now ?? systemNow;
    this.insyncDelayMs = options.insyncDelayMs ?? 2_000;
    // Route 53 throttles per account with a token bucket: 50 requests at once, 10 a second
    // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html).
    const rateLimit = options.faults?.rateLimit ?? 10;
    this.faults = new FaultInjector(
      {
        ...options.faults,
        rateLimit,
        burst: options.faults?.burst ?? rateLimit * 5,
        rateScope: 'account',
      },
      this.now,
    );
    this.priorRequestRate = options.priorRequestRate ?? 0;
    this.random = seededRandom((options.faults?.seed ?? 1) + 1);
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    try {
      const operation = this.operationOf(request) ?? 'Unknown';
      const decision = this.faults.decide(operation);
      if (decision === 'throttle') {
        // HTTP 400 with the code Throttling and the message "Rate exceeded", as Route 53 says.
        throw new AwsServiceError('Throttling', 'Rate exceeded', 400);
      }
      if (decision === 'fault-before') {
        throw new AwsServiceError('InternalFailure', 'An internal error occurred.', 500);
      }
      const response = this.route(request);
      if (decision === 'fault-after') {
        throw new AwsServiceError('InternalFailure', 'An internal error occurred.', 500);
      }
      return response;
    } catch (error) {
      if (error instanceof AwsServiceError) return xmlError(error);
      throw error;
    }
  }

  /**
   * Creates a hosted zone directly (the sandbox's default zones), INSYNC from the start.
   * Returns the zone; its `id` is the bare id (`Z...`).
   */
  createZone(
    name: string,
    options: { privateZone?: boolean; callerReference?: string; comment?: string } = {},
  ): HostedZone {
    const zone = this.addZone(
      name,
      options.callerReference ?? randomUUID(),
      options.privateZone ?? false,
      options.comment,
    );
    return zone;
  }

  /** Every hosted zone, in creation order. */
  listZones(): HostedZone[] {
    return [...this.zones.values()];
  }

  /** The published (INSYNC) record sets of a zone, sorted as Route 53 lists them. */
  publishedRecords(zoneId: string): RecordSet[] {
    this.flush();
    const zone = this.zones.get(stripPrefix(zoneId, '/hostedzone/'));
    return zone ? zone.published.sorted() : [];
  }

  /**
   * What the authoritative servers know about `name`: the longest public zone containing it and
   * the INSYNC record sets at that name. Private zones are not served (they answer only in a VPC).
   */
  lookup(name: string): ZoneLookup {
    this.flush();
    const target = fqdn(name);
    let best: HostedZone | undefined;
    for (const zone of this.zones.values()) {
      if (zone.privateZone || !isWithin(target, zone.name)) continue;
      if (!best || zone.name.length > best.name.length) best = zone;
    }
    if (!best) return { kind: 'no-zone' };
    return {
      kind: 'zone',
      zoneName: best.name,
      soa: best.published.get(best.name, 'SOA'),
      sets: best.published.setsAt(target),
      exists: best.published.existsAtOrBelow(target),
    };
  }

  /** Applies every change batch whose INSYNC time has come to what the name servers answer. */
  private flush(): void {
    const now = this.now().getTime();
    while (
      this.pending.length > 0 &&
      (this.pending[0] as ChangeBatchRecord).insyncAt.getTime() <= now
    ) {
      const batch = this.pending.shift() as ChangeBatchRecord;
      const zone = this.zones.get(batch.zoneId);
      if (zone) {
        for (const { action, set } of batch.operations) {
          if (action === 'DELETE') zone.published.delete(set.name, set.type);
          else zone.published.put(set);
        }
      }
      batch.applied = true;
    }
  }

  /** The operation a request calls, from its method and path (REST-XML). */
  operationOf(request: AwsRequest): string | undefined {
    const [version, resource, id, sub] = request.path.split('/').filter(Boolean);
    if (version !== '2013-04-01') return undefined;
    const method = request.method;
    if (resource === 'hostedzone' && !id) {
      return method === 'POST'
        ? 'CreateHostedZone'
        : method === 'GET'
          ? 'ListHostedZones'
          : undefined;
    }
    if (resource === 'hostedzone' && !sub && method === 'GET') return 'GetHostedZone';
    if (resource === 'hostedzonesbyname' && method === 'GET') return 'ListHostedZonesByName';
    if (resource === 'hostedzone' && sub === 'rrset') {
      return method === 'POST'
        ? 'ChangeResourceRecordSets'
        : method === 'GET'
          ? 'ListResourceRecordSets'
          : undefined;
    }
    if (resource === 'change' && id && method === 'GET') return 'GetChange';
    return undefined;
  }

  private route(request: AwsRequest): AwsResponse {
    const operation = this.operationOf(request);
    const id = decodeURIComponent(request.path.split('/').filter(Boolean)[2] ?? '');
    switch (operation) {
      case 'CreateHostedZone':
        return this.createHostedZone(request);
      case 'ListHostedZones':
        return this.listHostedZones(request.query);
      case 'GetHostedZone':
        return this.getHostedZone(id);
      case 'ListHostedZonesByName':
        return this.listHostedZonesByName(request.query);
      case 'ChangeResourceRecordSets':
        return this.changeResourceRecordSets(id, request.body);
      case 'ListResourceRecordSets':
        return this.listResourceRecordSets(id, request.query);
      case 'GetChange':
        return this.getChange(id);
      default:
        throw new AwsServiceError(
          'InvalidInput',
          `The sandbox Route 53 does not implement ${request.method} ${request.path}`,
        );
    }
  }

  private parseBody(body: Buffer): Record<string, unknown> {
    try {
      return asRecord(parser.parse(body.toString('utf8')));
    } catch {
      throw new AwsServiceError('InvalidInput', 'The XML document is malformed.');
    }
  }

  private zoneOrThrow(id: string): HostedZone {
    const zone = this.zones.get(stripPrefix(id, '/hostedzone/'));
    if (!zone)
      throw new AwsServiceError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    return zone;
  }

  private addZone(
    name: string,
    callerReference: string,
    privateZone: boolean,
    comment?: string,
  ): HostedZone {
    if (!isValidDomainName(name) || !fqdn(name).slice(0, -1).includes('.')) {
      throw new AwsServiceError('InvalidDomainName', `${name} is reserved by AWS!`);
    }
    for (const zone of this.zones.values()) {
      if (zone.callerReference === callerReference) {
        throw new AwsServiceError(
          'HostedZoneAlreadyExists',
          `A hosted zone has already been created with the specified caller reference.`,
          409,
        );
      }
    }
    const zoneName = fqdn(name);
    const id = resourceId('Z', 19);
    const n = randomInt(2048);
    const nameServers = [
      `ns-${n}.awsdns-${String(n % 64).padStart(2, '0')}.com`,
      `ns-${n + 1}.awsdns-${String((n + 1) % 64).padStart(2, '0')}.net`,
      `ns-${n + 2}.awsdns-${String((n + 2) % 64).padStart(2, '0')}.org`,
      `ns-${n + 3}.awsdns-${String((n + 3) % 64).padStart(2, '0')}.co.uk`,
    ];
    const soa: RecordSet = {
      name: zoneName,
      type: 'SOA',
      ttl: 900,
      values: [`${nameServers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`],
    };
    const ns: RecordSet = {
      name: zoneName,
      type: 'NS',
      ttl: 172800,
      values: nameServers.map((s) => `${s}.`),
    };
    const zone: HostedZone = {
      id,
      name: zoneName,
      callerReference,
      privateZone,
      nameServers,
      records: new RecordSetIndex(zoneName, [ns, soa]),
      // The zone's own SOA and NS are answered at once: the zone is useless to DNS without them.
      published: new RecordSetIndex(zoneName, [ns, soa]),
      ...(comment !== undefined && { comment }),
    };
    this.zones.set(id, zone);
    return zone;
  }

  private zoneXml(zone: HostedZone): Record<string, unknown> {
    return {
      Id: `/hostedzone/${zone.id}`,
      Name: zone.name,
      CallerReference: zone.callerReference,
      Config: {
        ...(zone.comment !== undefined && { Comment: zone.comment }),
        PrivateZone: zone.privateZone,
      },
      ResourceRecordSetCount: zone.records.size,
    };
  }

  private changeInfoXml(change: ChangeBatchRecord): Record<string, unknown> {
    return {
      Id: `/change/${change.id}`,
      Status: this.now().getTime() >= change.insyncAt.getTime() ? 'INSYNC' : 'PENDING',
      SubmittedAt: change.submittedAt.toISOString(),
      ...(change.comment !== undefined && { Comment: change.comment }),
    };
  }

  private recordChange(
    zoneId: string,
    operations: ChangeBatchRecord['operations'],
    comment?: string,
  ): ChangeBatchRecord {
    const submittedAt = this.now();
    const change: ChangeBatchRecord = {
      id: resourceId('C', 19),
      zoneId,
      submittedAt,
      insyncAt: new Date(submittedAt.getTime() + this.insyncDelayMs),
      operations,
      applied: false,
      ...(comment !== undefined && { comment }),
    };
    this.changes.set(change.id, change);
    this.pending.push(change);
    return change;
  }

  private createHostedZone(request: AwsRequest): AwsResponse {
    const body = asRecord(this.parseBody(request.body).CreateHostedZoneRequest);
    const name = asString(body.Name);
    const callerReference = asString(body.CallerReference);
    if (!name || !callerReference) {
      throw new AwsServiceError('InvalidInput', 'Name and CallerReference are required.');
    }
    const config = asRecord(body.HostedZoneConfig);
    const vpc = body.VPC !== undefined ? asRecord(body.VPC) : undefined;
    const privateZone = vpc !== undefined || asString(config.PrivateZone) === 'true';
    const zone = this.addZone(name, callerReference, privateZone, asString(config.Comment));
    const change = this.recordChange(zone.id, []);
    return {
      ...xml(
        'CreateHostedZoneResponse',
        {
          HostedZone: this.zoneXml(zone),
          ChangeInfo: this.changeInfoXml(change),
          DelegationSet: { NameServers: { NameServer: zone.nameServers } },
          ...(vpc && { VPC: { VPCRegion: asString(vpc.VPCRegion), VPCId: asString(vpc.VPCId) } }),
        },
        201,
      ),
      headers: {
        'content-type': 'text/xml',
        location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${zone.id}`,
      },
    };
  }

  private getHostedZone(id: string): AwsResponse {
    const zone = this.zoneOrThrow(id);
    return xml('GetHostedZoneResponse', {
      HostedZone: this.zoneXml(zone),
      DelegationSet: { NameServers: { NameServer: zone.nameServers } },
    });
  }

  private listHostedZones(query: URLSearchParams): AwsResponse {
    const maxItems = maxItemsOf(query, 100);
    const onlyPrivate = query.get('hostedzonetype') === 'PrivateHostedZone';
    const zones = [...this.zones.values()].filter((zone) => !onlyPrivate || zone.privateZone);
    const marker = query.get('marker');
    let start = 0;
    if (marker) {
      start = zones.findIndex((zone) => zone.id === marker);
      if (start < 0) throw new AwsServiceError('InvalidInput', `Invalid marker: ${marker}`);
    }
    const page = zones.slice(start, start + maxItems);
    const next = zones[start + maxItems];
    return xml('ListHostedZonesResponse', {
      HostedZones: { HostedZone: page.map((zone) => this.zoneXml(zone)) },
      Marker: marker ?? '',
      IsTruncated: next !== undefined,
      ...(next && { NextMarker: next.id }),
      MaxItems: String(maxItems),
    });
  }

  private listHostedZonesByName(query: URLSearchParams): AwsResponse {
    const maxItems = maxItemsOf(query, 100);
    const dnsName = query.get('dnsname');
    const hostedZoneId = query.get('hostedzoneid');
    if (hostedZoneId && !dnsName) {
      throw new AwsServiceError(
        'InvalidInput',
        'HostedZoneId is only allowed together with DNSName.',
      );
    }
    if (dnsName && !isValidDomainName(dnsName)) {
      throw new AwsServiceError('InvalidDomainName', `Invalid domain name: ${dnsName}`);
    }
    const zones = [...this.zones.values()].sort(
      (a, b) =>
        compareAscii(reversedLabels(a.name), reversedLabels(b.name)) || compareAscii(a.id, b.id),
    );
    let start = 0;
    if (dnsName) {
      const key = reversedLabels(dnsName);
      start = zones.findIndex((zone) => {
        const order = compareAscii(reversedLabels(zone.name), key);
        return (
          order > 0 ||
          (order === 0 &&
            (!hostedZoneId ||
              compareAscii(zone.id, stripPrefix(hostedZoneId, '/hostedzone/')) >= 0))
        );
      });
      if (start < 0) start = zones.length;
    }
    const page = zones.slice(start, start + maxItems);
    const next = zones[start + maxItems];
    return xml('ListHostedZonesByNameResponse', {
      HostedZones: { HostedZone: page.map((zone) => this.zoneXml(zone)) },
      ...(dnsName && { DNSName: fqdn(dnsName) }),
      ...(hostedZoneId && { HostedZoneId: hostedZoneId }),
      IsTruncated: next !== undefined,
      ...(next && { NextDNSName: next.name, NextHostedZoneId: next.id }),
      MaxItems: String(maxItems),
    });
  }

  private changeResourceRecordSets(id: string, rawBody: Buffer): AwsResponse {
    const zone = this.zoneOrThrow(id);
    this.flush();
    if (
      this.priorRequestRate > 0 &&
      this.pending.some((change) => change.zoneId === zone.id) &&
      this.random() < this.priorRequestRate
    ) {
      throw new AwsServiceError(
        'PriorRequestNotComplete',
        'The request was rejected because Route 53 was still processing a prior request.',
        400,
      );
    }
    const body = asRecord(this.parseBody(rawBody).ChangeResourceRecordSetsRequest);
    const batch = asRecord(body.ChangeBatch);
    const changes = (asRecord(batch.Changes).Change as unknown[] | undefined) ?? [];
    if (changes.length === 0) {
      throw new AwsServiceError(
        'InvalidInput',
        'Invalid request: ChangeBatch must contain at least one Change.',
      );
    }
    const operations: ChangeBatchRecord['operations'] = [];
    for (const raw of changes) {
      const change = asRecord(raw);
      const action = asString(change.Action);
      const set = asRecord(change.ResourceRecordSet);
      const name = asString(set.Name);
      const type = asString(set.Type);
      if (action !== 'CREATE' && action !== 'UPSERT' && action !== 'DELETE') {
        throw new AwsServiceError(
          'InvalidInput',
          `Invalid request: Action '${action}' is not one of CREATE, DELETE, UPSERT`,
        );
      }
      if (!name || !type || !RR_TYPES.has(type)) {
        throw new AwsServiceError(
          'InvalidInput',
          `Invalid request: every ResourceRecordSet needs a Name and a valid Type (got ${type}).`,
        );
      }
      const ttl = asString(set.TTL);
      const values = (
        (asRecord(set.ResourceRecords).ResourceRecord as unknown[] | undefined) ?? []
      ).map((record) => asString(asRecord(record).Value) ?? '');
      if (set.AliasTarget !== undefined || ttl === undefined || values.length === 0) {
        throw new AwsServiceError(
          'InvalidInput',
          `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${name}, Type=${type}, SetIdentifier=null]`,
        );
      }
      operations.push({ action, set: { name: fqdn(name), type, ttl: Number(ttl), values } });
    }
    // Route 53 applies a batch atomically: each change is validated against the zone as the
    // batch's earlier changes left it, and a batch with any invalid change is undone whole.
    const undo: Array<() => void> = [];
    const messages: string[] = [];
    for (const { action, set } of operations) {
      const message = this.validateChange(zone, zone.records, action, set);
      if (message) {
        messages.push(message);
        continue;
      }
      const before =
        action === 'DELETE'
          ? zone.records.delete(set.name, set.type)
          : zone.records.get(set.name, set.type);
      if (action !== 'DELETE') zone.records.put(set);
      undo.push(() =>
        before ? zone.records.put(before) : zone.records.delete(set.name, set.type),
      );
    }
    if (messages.length > 0) {
      for (const step of undo.reverse()) step();
      throw new AwsServiceError('InvalidChangeBatch', `[${messages.join(', ')}]`);
    }
    const change = this.recordChange(zone.id, operations, asString(batch.Comment));
    return xml('ChangeResourceRecordSetsResponse', { ChangeInfo: this.changeInfoXml(change) });
  }

  private validateChange(
    zone: HostedZone,
    working: RecordSetIndex,
    action: 'CREATE' | 'UPSERT' | 'DELETE',
    set: RecordSet,
  ): string | undefined {
    const label = `[name='${set.name}', type='${set.type}']`;
    if (!isWithin(set.name, zone.name)) {
      return `RRSet with DNS name ${set.name} is not permitted in zone ${zone.name}`;
    }
    if (!isValidDomainName(set.name)) return `Invalid DNS name ${set.name}`;
    const existing = working.get(set.name, set.type);
    if (action === 'DELETE') {
      if (!existing) return `Tried to delete resource record set ${label} but it was not found`;
      if (existing.ttl !== set.ttl || !sameValues(existing.values, set.values)) {
        return `Tried to delete resource record set ${label} but the values provided do not match the current values`;
      }
      if (set.name === zone.name && (set.type === 'SOA' || set.type === 'NS')) {
        return `A HostedZone must contain at least one NS record for the zone itself and exactly one SOA record.`;
      }
      return undefined;
    }
    if (action === 'CREATE' && existing) {
      return `Tried to create resource record set ${label} but it already exists`;
    }
    if (set.type === 'CNAME') {
      if (set.name === zone.name)
        return `RRSet of type CNAME with DNS name ${set.name} is not permitted at apex in zone ${zone.name}`;
      if (set.values.length !== 1) {
        return `Invalid Resource Record: FATAL problem: RRSetTypeCNAMEWithMultipleValues (CNAME RRSet must have a single value) encountered with '${set.name}'`;
      }
    }
    const sameName = working.setsAt(set.name).filter((other) => other.type !== set.type);
    if (
      (set.type === 'CNAME' && sameName.length > 0) ||
      (set.type !== 'CNAME' && sameName.some((o) => o.type === 'CNAME'))
    ) {
      return `RRSet of type ${set.type} with DNS name ${set.name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone.name}`;
    }
    if (set.type === 'TXT' || set.type === 'SPF') {
      for (const value of set.values) {
        // Route 53 wants every character-string of a TXT value in double quotes.
        if (!QUOTED_STRINGS.test(value)) {
          return `Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${value}'`;
        }
        if (parseTxtValue(value).some((part) => Buffer.byteLength(part) > 255)) {
          return `Invalid Resource Record: FATAL problem: TXTRDATATooLong encountered at ${value.slice(0, 40)}...`;
        }
      }
    }
    if (set.type === 'A' && !set.values.every((v) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(v))) {
      return `Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${set.values.join(' ')}'`;
    }
    return undefined;
  }

  private getChange(id: string): AwsResponse {
    this.flush();
    const change = this.changes.get(stripPrefix(id, '/change/'));
    if (!change)
      throw new AwsServiceError(
        'NoSuchChange',
        `A change with the specified change ID does not exist.`,
        404,
      );
    return xml('GetChangeResponse', { ChangeInfo: this.changeInfoXml(change) });
  }

  private listResourceRecordSets(id: string, query: URLSearchParams): AwsResponse {
    const zone = this.zoneOrThrow(id);
    // Up to 300 a page, 100 when the caller names no maxitems (the API reference says "up to
    // 300"; AWS answers <MaxItems>100</MaxItems> when none is given, aws/aws-cli#8050).
    const maxItems = maxItemsOf(query, 100, 300);
    const startName = query.get('name');
    const startType = query.get('type');
    if (startType && !startName) {
      throw new AwsServiceError(
        'InvalidInput',
        'The input is not valid: StartRecordType requires StartRecordName.',
      );
    }
    if (startType && !RR_TYPES.has(startType)) {
      throw new AwsServiceError('InvalidInput', `Invalid type: ${startType}`);
    }
    const { sets: page, next } = zone.records.page(
      startName ? { name: fqdn(startName), type: startType ?? '' } : undefined,
      maxItems,
    );
    return xml('ListResourceRecordSetsResponse', {
      ResourceRecordSets: {
        ResourceRecordSet: page.map((set) => ({
          Name: set.name,
          Type: set.type,
          TTL: set.ttl,
          ResourceRecords: { ResourceRecord: set.values.map((value) => ({ Value: value })) },
        })),
      },
      IsTruncated: next !== undefined,
      ...(next && { NextRecordName: next.name, NextRecordType: next.type }),
      MaxItems: String(maxItems),
    });
  }
}
