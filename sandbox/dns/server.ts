import type { AddressInfo, Socket } from 'node:net';
import dns2, { Packet } from 'dns2';
import { bareName, fqdn, isWithin, parseTxtValue } from '#sandbox/emulators/dns-names.js';
import type { RecordSet, ZoneLookup } from '#sandbox/emulators/route53.js';
import { explainListenError, type PortSpec } from '#sandbox/ports.js';

/** Where the DNS server reads its zones: the Route 53 emulator's INSYNC view. */
export interface ZoneSource {
  lookup(name: string): ZoneLookup;
}

export interface DnsServerOptions {
  zones: ZoneSource;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port?: number;
  host?: string;
}

export interface SandboxDnsServer {
  host: string;
  port: number;
  /** `host:port`, the form `dns.Resolver#setServers` takes. */
  address: string;
  /** Makes `name` and every name below it answer SERVFAIL until `clearFault` (fault injection). */
  failName(name: string): void;
  clearFault(name: string): void;
  clearFaults(): void;
  /** Queries answered since start, for progress output and tests. */
  readonly queryCount: number;
  close(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = {
  [Packet.TYPE.A]: 'A',
  [Packet.TYPE.NS]: 'NS',
  [Packet.TYPE.CNAME]: 'CNAME',
  [Packet.TYPE.SOA]: 'SOA',
  [Packet.TYPE.TXT]: 'TXT',
  [Packet.TYPE.MX]: 'MX',
  [Packet.TYPE.AAAA]: 'AAAA',
};

// DNS response codes (RFC 1035 §4.1.1); dns2's typings do not declare Packet.RCODE.
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

type Resource = Record<string, unknown> & {
  name: string;
  type: number;
  class: number;
  ttl: number;
};

/** Turns one Route 53 record set into DNS resource records dns2 can encode. */
function resourcesOf(set: RecordSet): Resource[] {
  const base = { name: bareName(set.name), class: Packet.CLASS.IN, ttl: set.ttl };
  switch (set.type) {
    case 'A':
      return set.values.map((address) => ({ ...base, type: Packet.TYPE.A, address }));
    case 'AAAA':
      return set.values.map((address) => ({ ...base, type: Packet.TYPE.AAAA, address }));
    case 'CNAME':
      return set.values.map((target) => ({
        ...base,
        type: Packet.TYPE.CNAME,
        domain: bareName(target),
      }));
    case 'NS':
      return set.values.map((target) => ({ ...base, type: Packet.TYPE.NS, ns: bareName(target) }));
    case 'TXT':
      // One resource per value; each keeps its character-strings, as DKIM keys need.
      return set.values.map((value) => ({
        ...base,
        type: Packet.TYPE.TXT,
        data: parseTxtValue(value),
      }));
    case 'MX':
      return set.values.map((value) => {
        const [priority, exchange] = value.trim().split(/\s+/);
        return {
          ...base,
          type: Packet.TYPE.MX,
          priority: Number(priority),
          exchange: bareName(exchange ?? ''),
        };
      });
    case 'SOA':
      return set.values.map((value) => {
        const [primary, admin, serial, refresh, retry, expiration, minimum] = value
          .trim()
          .split(/\s+/);
        return {
          ...base,
          type: Packet.TYPE.SOA,
          primary: bareName(primary ?? ''),
          admin: bareName(admin ?? ''),
          serial: Number(serial),
          refresh: Number(refresh),
          retry: Number(retry),
          expiration: Number(expiration),
          minimum: Number(minimum),
        };
      });
    default:
      return [];
  }
}

/** The authoritative answer for one question, from the zones' INSYNC records. */
function answer(zones: ZoneSource, faults: Set<string>, request: Packet): Packet {
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  const [question] = request.questions;
  if (!question) {
    response.header.rcode = RCODE.FORMERR;
    return response;
  }
  const name = fqdn(question.name);
  if ([...faults].some((fault) => isWithin(name, fault))) {
    response.header.aa = 0;
    response.header.rcode = RCODE.SERVFAIL;
    return response;
  }
  const seen = new Set<string>();
  let current = name;
  // Follow CNAMEs inside our own zones, as an authoritative server includes the chain it knows.
  for (let hop = 0; hop < 8; hop++) {
    const found = zones.lookup(current);
    if (found.kind === 'no-zone') {
      // No sandbox zone holds the name. On the internet a resolver would find that domain's
      // records simply missing, so answer as a resolver would: NXDOMAIN, not authoritative.
      if (hop === 0) {
        response.header.aa = 0;
        response.header.rcode = RCODE.NXDOMAIN;
      }
      return response;
    }
    const typeName = TYPE_NAMES[question.type];
    const exact = found.sets.filter((set) => set.type === typeName);
    const cname = found.sets.find((set) => set.type === 'CNAME');
    if (exact.length > 0) {
      for (const set of exact) response.answers.push(...(resourcesOf(set) as never[]));
      return response;
    }
    if (cname && typeName !== 'CNAME') {
      response.answers.push(...(resourcesOf(cname) as never[]));
      const target = fqdn(cname.values[0] ?? '');
      if (seen.has(target)) return response;
      seen.add(target);
      current = target;
      continue;
    }
    // NXDOMAIN for a name that does not exist, NOERROR with no data for one that does; both
    // carry the zone's SOA so resolvers can cache the negative answer.
    if (!found.exists && hop === 0) response.header.rcode = RCODE.NXDOMAIN;
    if (found.soa) response.authorities.push(...(resourcesOf(found.soa) as never[]));
    return response;
  }
  return response;
}

/** The DNS server, created but not yet listening (see `listen`). */
export interface DnsServerHandle extends Omit<SandboxDnsServer, 'port' | 'address'> {
  /** Binds UDP and TCP on one port; a taken port is a PortInUseError naming `variable`. */
  listen(): Promise<void>;
  /** The port once listening (or the one asked for). */
  readonly port: number;
  readonly address: string;
}

/**
 * Creates the sandbox's authoritative DNS server (UDP and TCP, one port) for the Route 53
 * emulator's public zones: INSYNC records only, NXDOMAIN and NODATA with the zone's SOA,
 * NXDOMAIN (as a resolver answers a missing name) outside every zone, and SERVFAIL on demand for
 * fault injection. It answers no query before
 * `ready` settles.
 */
export function createDnsServer(
  options: DnsServerOptions & { ready?: Promise<unknown>; variable?: string },
): DnsServerHandle {
  const host = options.host ?? '127.0.0.1';
  const spec: PortSpec = {
    port: options.port ?? 0,
    host,
    variable: options.variable ?? 'SANDBOX_DNS_PORT',
  };
  const ready = options.ready ?? Promise.resolve();
  const faults = new Set<string>();
  let queryCount = 0;
  const handle = (request: Packet, send: (response: Packet) => unknown) => {
    void ready.then(() => {
      queryCount += 1;
      let response: Packet;
      try {
        response = answer(options.zones, faults, request);
      } catch {
        response = Packet.createResponseFromRequest(request);
        response.header.rcode = RCODE.SERVFAIL;
      }
      // dns2's UDP send returns a promise, its TCP send may not; either way a client that went
      // away needs no answer.
      Promise.resolve()
        .then(() => send(response))
        .catch(() => undefined);
    });
  };

  let port = spec.port;
  let close = async (): Promise<void> => {};
  return {
    host,
    get port() {
      return port;
    },
    get address() {
      return `${host}:${port}`;
    },
    failName: (name) => faults.add(fqdn(name)),
    clearFault: (name) => faults.delete(fqdn(name)),
    clearFaults: () => faults.clear(),
    get queryCount() {
      return queryCount;
    },
    listen: async () => {
      // UDP first (it picks the port when 0), then TCP on the same port; when a free port was
      // picked and TCP's is taken, try another.
      for (let attempt = 0; ; attempt++) {
        const udp = dns2.createUDPServer(handle as never);
        // dns2's own listen() never rejects: a taken port would be an unhandled 'error' event.
        await new Promise<void>((resolve, reject) => {
          const onError = (error: unknown) => reject(explainListenError(error, spec, 'UDP'));
          udp.once('error', onError);
          udp.bind(spec.port, host, () => {
            udp.off('error', onError);
            resolve();
          });
        });
        const udpPort = udp.address().port;
        const tcp = dns2.createTCPServer(handle as never);
        const connections = new Set<Socket>();
        tcp.on('connection', (socket: Socket) => {
          connections.add(socket);
          socket.once('close', () => connections.delete(socket));
        });
        const failure = await new Promise<unknown>((resolve) => {
          tcp.once('error', resolve);
          tcp.listen(udpPort, host, () => resolve(undefined));
        });
        if (failure !== undefined) {
          await new Promise<void>((resolve) => udp.close(() => resolve()));
          if (spec.port !== 0 || attempt >= 5) {
            throw explainListenError(failure, { ...spec, port: udpPort }, 'TCP');
          }
          continue;
        }
        port = (tcp.address() as AddressInfo).port;
        close = async () => {
          await Promise.all([
            new Promise<void>((resolve) => udp.close(() => resolve())),
            new Promise<void>((resolve) => {
              tcp.close(() => resolve());
              for (const socket of connections) socket.destroy();
            }),
          ]);
        };
        return;
      }
    },
    close: () => close(),
  };
}

/** Creates the DNS server and starts it at once (emulators used on their own). */
export async function startDnsServer(options: DnsServerOptions): Promise<SandboxDnsServer> {
  const server = createDnsServer(options);
  await server.listen();
  return server;
}
