import { createSocket } from 'node:dgram';
import dns2, { type DnsServer, type Packet, type Resource } from 'dns2';

const { Packet: PacketClass } = dns2;
// dns2 has the response codes at runtime, not in its types.
const RCODE = (PacketClass as unknown as { RCODE: Record<string, number> }).RCODE;

/** The records one test server holds, by lower-case name without the trailing dot. */
export interface ZoneData {
  CNAME?: string[];
  /** Each TXT record as its character-strings. */
  TXT?: string[][];
  NS?: string[];
  A?: string[];
  MX?: { exchange: string; priority: number }[];
}

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, as DNS_RESOLVERS takes it. */
  address: string;
  port: number;
  /** Every question asked, as `TYPE name`. */
  questions: string[];
  close(): Promise<void>;
}

export type Behaviour = 'answer' | 'servfail' | 'silent';

const TYPE_NAMES = Object.fromEntries(
  Object.entries(PacketClass.TYPE).map(([name, code]) => [code, name]),
) as Record<number, string>;

/**
 * Starts a dns2 server (UDP and TCP) on 127.0.0.1 and a free port. Names in `zone` answer with
 * their records (NOERROR and no answers for a type they lack); other names are NXDOMAIN. Names
 * in `servfail` get SERVFAIL; a 'silent' server never answers at all.
 */
export async function startDnsServer(
  zone: Record<string, ZoneData>,
  options: { behaviour?: Behaviour; servfail?: string[] } = {},
): Promise<TestDnsServer> {
  const questions: string[] = [];
  const behaviour = options.behaviour ?? 'answer';
  const servfail = new Set(options.servfail ?? []);

  const handle = (request: Packet, send: (response: Packet) => void) => {
    const [question] = request.questions;
    if (question === undefined) return;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const type = TYPE_NAMES[question.type] ?? String(question.type);
    questions.push(`${type} ${name}`);
    if (behaviour === 'silent') return;
    const response = PacketClass.createResponseFromRequest(request);
    response.header.aa = 1;
    if (behaviour === 'servfail' || servfail.has(name)) {
      response.header.rcode = RCODE.SERVFAIL ?? 2;
      send(response);
      return;
    }
    const data = zone[name];
    if (data === undefined) {
      response.header.rcode = RCODE.NXDOMAIN ?? 3;
      send(response);
      return;
    }
    const base = { name: question.name, class: PacketClass.CLASS.IN, ttl: 60 };
    const answers: object[] = [];
    if (type === 'CNAME') {
      for (const domain of data.CNAME ?? []) answers.push({ ...base, type: question.type, domain });
    } else if (type === 'TXT') {
      for (const strings of data.TXT ?? [])
        answers.push({ ...base, type: question.type, data: strings });
    } else if (type === 'NS') {
      for (const ns of data.NS ?? []) answers.push({ ...base, type: question.type, ns });
    } else if (type === 'MX') {
      for (const mx of data.MX ?? []) answers.push({ ...base, type: question.type, ...mx });
    } else if (type === 'A') {
      for (const address of data.A ?? []) answers.push({ ...base, type: question.type, address });
    }
    response.answers.push(...(answers as Resource[]));
    send(response);
  };

  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    const server = dns2.createServer({ udp: true, tcp: true, handle });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server
          .listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } })
          .then(() => resolve(), reject);
      });
      return {
        address: `127.0.0.1:${port}`,
        port,
        questions,
        close: () => closeServer(server),
      };
    } catch (error) {
      // Another process took the port between our probe and the bind: try another.
      await closeServer(server).catch(() => undefined);
      if (attempt >= 5) throw error;
    }
  }
}

async function closeServer(server: DnsServer): Promise<void> {
  await server.close();
}

/** A port free for UDP on 127.0.0.1 right now (the OS picks it). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
