import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its probe settings and table, and its DynamoDB client its endpoint, as it
// loads. Its DNS look-ups go to a real DNS server holding one of the three records.
const { registry, dns } = await vi.hoisted(async () => {
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  const { startDnsServer } = await import('#test/support/dns-server.js');
  const dns = await startDnsServer({
    'tokena._domainkey.mail.example.com': { CNAME: ['tokena.dkim.amazonses.com'] },
  });
  process.env.DNS_RESOLVERS = dns.address;
  process.env.DNS_QUERY_AUTHORITATIVE = 'false';
  return { registry: await startRegistryTable(), dns };
});

import { claimIdentity } from '#shared/registry/registry.js';
import { useClock } from '#shared/runtime/clock.js';
import type { PublishedRecords } from '#shared/workflow/types.js';
import type { CheckInput } from '#steps/check-verification/check-identity.js';
import { handler } from '#steps/check-verification/handler.js';
import { cnameRecords, easyDkimIdentity, firstCheck } from '#test/support/fixtures.js';
import {
  clearRegistryTable,
  pendingRun,
  REGISTRY_TABLE,
  registryItem,
} from '#test/support/registry-table.js';
import { lambdaContext } from '#test/unit/api/support.js';

const IDENTITY = 'mail.example.com';
const CREATED = new Date('2026-11-01T00:00:00.000Z');
const NOW = new Date('2026-11-01T01:00:00.000Z');
const RUN_ID = 'run-1';
const records = cnameRecords(IDENTITY);
const published: PublishedRecords = {
  provider: 'route53',
  provider_reason: 'a zone matched',
  hosted_zone_id: 'Z1',
  hosted_zone_name: IDENTITY,
  written: true,
  change_id: 'C1',
  records,
  zone_file: [],
};

function checkInput(wake: CheckInput['wake'] = null): CheckInput {
  return {
    identity: easyDkimIdentity(CREATED, IDENTITY),
    dns: published,
    previous: firstCheck,
    execution_id: RUN_ID,
    wake,
  };
}

afterAll(async () => {
  await Promise.all([registry.close(), dns.close()]);
});

describe('CheckVerification handler', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(async () => {
    ses.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: false,
      DkimAttributes: { Status: 'PENDING' },
    });
  });
  afterEach(() => {
    useClock();
  });

  it('keeps what the look found in the registry: DKIM status, records, where they went, the probe', async () => {
    await claimIdentity(REGISTRY_TABLE, IDENTITY, 'DOMAIN', pendingRun(RUN_ID, CREATED), CREATED);

    const result = await handler(checkInput(), lambdaContext);

    expect(result).toMatchObject({ outcome: 'PENDING', dkim_status: 'PENDING' });
    expect(result.probe.map((r) => r.status)).toEqual(['OK', 'MISSING', 'MISSING']);
    const item = await registryItem(IDENTITY);
    expect(item).toMatchObject({
      dkim_status: 'PENDING',
      checked_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      active_run_id: RUN_ID,
    });
    expect(JSON.parse(item?.records_json ?? 'null')).toEqual(records);
    expect(JSON.parse(item?.published_json ?? 'null')).toEqual(published);
    expect(JSON.parse(item?.probe_json ?? 'null')).toEqual(result.probe);
  });

  it('keeps SES saying SUCCESS, with no probe, when the sweeper wakes the run to a verified identity', async () => {
    await claimIdentity(REGISTRY_TABLE, IDENTITY, 'DOMAIN', pendingRun(RUN_ID, CREATED), CREATED);
    ses.on(GetEmailIdentityCommand).resolves({
      VerifiedForSendingStatus: true,
      DkimAttributes: { Status: 'SUCCESS' },
    });

    const result = await handler(
      checkInput({ woken_by: 'sweeper', ses_status: 'SUCCESS' }),
      lambdaContext,
    );

    expect(result.outcome).toBe('VERIFIED');
    const item = await registryItem(IDENTITY);
    expect(item).toMatchObject({ dkim_status: 'SUCCESS', probe_json: '[]' });
  });

  it('leaves the item of an identity another run now holds alone, and still reports its look', async () => {
    await claimIdentity(REGISTRY_TABLE, IDENTITY, 'DOMAIN', pendingRun('run-2', NOW), NOW);
    const before = await registryItem(IDENTITY);

    const result = await handler(checkInput(), lambdaContext);

    expect(result.outcome).toBe('PENDING');
    expect(await registryItem(IDENTITY)).toEqual(before);
  });
});
