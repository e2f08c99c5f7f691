import { afterEach, describe, expect, it } from 'vitest';
import { lookupTxt, probeRecords } from '#shared/dns/probe.js';
import { dmarcRecordFor, mailFromRecordsFor } from '#shared/dns/records.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';

// MAIL FROM (MX, SPF) and DMARC records, probed over the wire against a dns2 server.
const [mx, spf] = mailFromRecordsFor(
  { domain: 'bounce.example.com', behavior_on_mx_failure: 'USE_DEFAULT_VALUE' },
  'us-east-1',
) as [DkimDnsRecord, DkimDnsRecord];
const dmarc = dmarcRecordFor('example.com', { policy: 'reject', rua: null });
const fast = { timeoutMs: 500, totalTimeoutMs: 5_000, queryAuthoritative: false };
const FEEDBACK = 'feedback-smtp.us-east-1.amazonses.com';

const servers: TestDnsServer[] = [];
async function probe(zone: Record<string, ZoneData>, records: DkimDnsRecord[]) {
  const server = await startDnsServer(zone);
  servers.push(server);
  return probeRecords(records, { ...fast, resolvers: [server.address], domain: 'example.com' });
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('probeRecords for MAIL FROM and DMARC', () => {
  it('finds the MX to the feedback endpoint and an SPF record that includes amazonses.com among other TXT records', async () => {
    const results = await probe(
      {
        'bounce.example.com': {
          MX: [{ exchange: FEEDBACK, priority: 10 }],
          TXT: [
            ['google-site-verification=x'],
            ['v=spf1 include:amazonses.com include:_spf.example.net -all'],
          ],
        },
      },
      [mx, spf],
    );
    expect(results.map((r) => r.status)).toEqual(['OK', 'OK']);
  });

  it.each([
    [
      'an MX elsewhere',
      { MX: [{ exchange: 'mx.example.net', priority: 10 }] },
      'MX',
      'WRONG_VALUE',
    ],
    ['no MX', { TXT: [['v=spf1 ~all']] }, 'MX', 'MISSING'],
    [
      'an SPF without amazonses.com',
      { TXT: [['v=spf1 include:_spf.example.net ~all']] },
      'TXT',
      'WRONG_VALUE',
    ],
    [
      'two SPF records',
      { TXT: [['v=spf1 include:amazonses.com ~all'], ['v=spf1 -all']] },
      'TXT',
      'WRONG_VALUE',
    ],
    ['TXT records but no SPF', { TXT: [['hello']] }, 'TXT', 'MISSING'],
  ])('reports %s', async (_case, data, type, status) => {
    const results = await probe({ 'bounce.example.com': data as ZoneData }, [mx, spf]);
    expect(results.find((r) => r.type === type)?.status).toBe(status);
  });

  it('counts any one DMARC record as the policy, and several as none', async () => {
    const [own] = await probe({ '_dmarc.example.com': { TXT: [['v=DMARC1; p=none']] } }, [dmarc]);
    expect(own).toMatchObject({ status: 'OK', found: 'v=DMARC1; p=none' });
    const [two] = await probe(
      { '_dmarc.example.com': { TXT: [['v=DMARC1; p=none'], ['v=DMARC1; p=reject']] } },
      [dmarc],
    );
    expect(two?.status).toBe('WRONG_VALUE');
    const [none] = await probe({}, [dmarc]);
    expect(none?.status).toBe('MISSING');
  });

  it('reads the TXT records at a name, none when the name does not exist', async () => {
    const server = await startDnsServer({
      '_dmarc.example.com': { TXT: [['v=DMARC1; ', 'p=none']] },
    });
    servers.push(server);
    expect(await lookupTxt('_dmarc.example.com', { ...fast, resolvers: [server.address] })).toEqual(
      ['v=DMARC1; p=none'],
    );
    expect(await lookupTxt('_dmarc.example.org', { ...fast, resolvers: [server.address] })).toEqual(
      [],
    );
  });
});
