import dns2, { Packet } from 'dns2';

type RecordType = 'CNAME' | 'TXT';

/**
 * A real authoritative DNS server on 127.0.0.1 whose answers a test changes as it goes: records
 * appear (a person adding them at hour 30) or never do. Node's resolver queries it over UDP.
 */
export interface DnsWorld {
  port: number;
  set(name: string, type: RecordType, values: string[] | string[][]): void;
  delete(name: string): void;
  clear(): void;
  close(): Promise<void>;
}

export async function startDnsWorld(): Promise<DnsWorld> {
  const records = new Map<string, { type: RecordType; values: string[] | string[][] }>();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      // dns2's type declarations lack RCODE and the per-type answer fields.
      const answers = response.answers as unknown as Record<string, unknown>[];
      const rcode = (Packet as unknown as { RCODE: { NXDOMAIN: number } }).RCODE;
      const question = request.questions[0];
      const name = question?.name.toLowerCase().replace(/\.$/, '') ?? '';
      const record = records.get(name);
      if (!record) {
        response.header.rcode = rcode.NXDOMAIN;
      } else if (record.type === 'CNAME' && question?.type === Packet.TYPE.CNAME) {
        for (const value of record.values) {
          answers.push({
            name,
            type: Packet.TYPE.CNAME,
            class: Packet.CLASS.IN,
            ttl: 60,
            domain: String(value),
          });
        }
      } else if (record.type === 'TXT' && question?.type === Packet.TYPE.TXT) {
        for (const value of record.values) {
          answers.push({
            name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 60,
            data: value,
          });
        }
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const { port } = server.addresses().udp as { port: number };
  return {
    port,
    set: (name, type, values) => records.set(name.toLowerCase(), { type, values }),
    delete: (name) => records.delete(name.toLowerCase()),
    clear: () => records.clear(),
    close: () => server.close(),
  };
}
