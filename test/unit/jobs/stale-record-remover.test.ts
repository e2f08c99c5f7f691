import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  ThrottlingException,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryItem, StaleRemovalBatch } from '#shared/registry/items.js';
import type { StaleRecordRemoval } from '#shared/workflow/types.js';
import {
  clearRegistryTable,
  putRegistryItem,
  REGISTRY_TABLE,
  registryItem,
  startRegistryTable,
} from '#test/support/registry-table.js';

const route53 = mockClient(Route53Client);
const NOW = new Date('2026-12-10T12:00:00.000Z');
const DAY = 24 * 3600_000;

let server: Awaited<ReturnType<typeof startRegistryTable>>;
let registry: typeof import('#shared/registry/registry.js');
let removeDueRecords: typeof import('#jobs/stale-record-remover/remove-due-records.js').removeDueRecords;
let Route53RecordSets: typeof import('#shared/dns/route53-record-sets.js').Route53RecordSets;

beforeAll(async () => {
  server = await startRegistryTable();
  registry = await import('#shared/registry/registry.js');
  ({ removeDueRecords } = await import('#jobs/stale-record-remover/remove-due-records.js'));
  ({ Route53RecordSets } = await import('#shared/dns/route53-record-sets.js'));
});
afterAll(async () => {
  await server.close();
});

/** A batch as the state machine's ScheduleStaleRecordRemoval writes it. */
function batch(since: Date, names: string[], fields: Partial<StaleRecordRemoval> = {}) {
  const removal: StaleRecordRemoval = {
    provider: 'route53',
    hosted_zone_id: 'Z0EXAMPLE',
    hosted_zone_name: 'example.com',
    records: names.map((name) => ({ type: 'TXT', name })),
    by_hand: [],
    ...fields,
  };
  return {
    since: since.toISOString(),
    execution_id: `run-${since.getTime()}`,
    removal_json: JSON.stringify(removal),
  } satisfies StaleRemovalBatch;
}

async function identityWith(
  identity: string,
  batches: StaleRemovalBatch[],
  current: string[] = [],
) {
  const item: RegistryItem = {
    identity,
    kind: 'IDENTITY',
    identity_type: 'DOMAIN',
    status: 'VERIFIED',
    dkim_status: 'SUCCESS',
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    latest_run: null,
    records_json: JSON.stringify(
      current.map((name) => ({ type: 'TXT', name, value: 'v', ttl: 1 })),
    ),
    stale_removals: batches,
    stale_kind: 'STALE_RECORDS',
    stale_since: batches.map((b) => b.since).sort()[0] as string,
  };
  await putRegistryItem(item);
}

/** Record names Route 53 was asked to DELETE, in order. */
const deletedNames = () =>
  route53
    .commandCalls(ChangeResourceRecordSetsCommand)
    .flatMap((call) => call.args[0].input.ChangeBatch?.Changes ?? [])
    .filter((change) => change.Action === 'DELETE')
    .map((change) => change.ResourceRecordSet?.Name);

const run = () =>
  removeDueRecords({
    now: NOW,
    graceDays: 7,
    dueItems: (cutoff) => registry.itemsWithStaleRecordsSince(REGISTRY_TABLE, cutoff),
    replaceBatches: (identity, count, remaining) =>
      registry.replaceStaleRemovals(REGISTRY_TABLE, identity, count, remaining),
    remover: new Route53RecordSets({ client: new Route53Client({}), sleep: async () => {} }),
  });

describe('removeDueRecords (the stale-record remover)', () => {
  beforeEach(async () => {
    await clearRegistryTable();
    route53.reset();
    // Every record asked for is there, with one value.
    route53.on(ListResourceRecordSetsCommand).callsFake((input) => ({
      ResourceRecordSets: [
        {
          Name: input.StartRecordName,
          Type: input.StartRecordType,
          TTL: 1800,
          ResourceRecords: [{ Value: '"v=DKIM1; k=rsa; p=OLD"' }],
        },
      ],
      IsTruncated: false,
      MaxItems: 1,
    }));
    route53.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW },
    });
    route53.on(GetChangeCommand).resolves({
      ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: NOW },
    });
  });

  it('deletes the records of a batch whose grace period is over, and leaves a younger batch for later', async () => {
    await identityWith('a.example.com', [
      batch(new Date(NOW.getTime() - 8 * DAY), ['old1._domainkey.a.example.com']),
      batch(new Date(NOW.getTime() - 2 * DAY), ['old2._domainkey.a.example.com']),
    ]);

    const report = await run();

    expect(deletedNames()).toEqual(['old1._domainkey.a.example.com.']);
    expect(report.removed_records).toEqual([
      { type: 'TXT', name: 'old1._domainkey.a.example.com' },
    ]);
    const item = await registryItem('a.example.com');
    expect(item?.stale_removals?.map((b) => b.execution_id)).toEqual([
      `run-${NOW.getTime() - 2 * DAY}`,
    ]);
    expect(item?.stale_since).toBe(new Date(NOW.getTime() - 2 * DAY).toISOString());
  });

  it('finds nothing due within the grace period, and deletes nothing', async () => {
    await identityWith('b.example.com', [
      batch(new Date(NOW.getTime() - 6 * DAY), ['old._domainkey.b.example.com']),
    ]);

    const report = await run();

    expect(report.items).toBe(0);
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect((await registryItem('b.example.com'))?.stale_removals).toHaveLength(1);
  });

  it('takes the item out of the index once its last batch is done', async () => {
    await identityWith('c.example.com', [
      batch(new Date(NOW.getTime() - 7 * DAY), ['old._domainkey.c.example.com']),
    ]);

    await run();

    const item = await registryItem('c.example.com');
    expect(item?.stale_removals).toBeUndefined();
    expect(item?.stale_kind).toBeUndefined();
    expect(item?.stale_since).toBeUndefined();
    expect((await run()).items).toBe(0);
  });

  it('never deletes a record the current signing uses again (a rotation back to an old selector)', async () => {
    await identityWith(
      'd.example.com',
      [batch(new Date(NOW.getTime() - 9 * DAY), ['s1._domainkey.d.example.com'])],
      ['s1._domainkey.d.example.com'],
    );

    const report = await run();

    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(report.kept_in_use).toEqual([{ type: 'TXT', name: 's1._domainkey.d.example.com' }]);
  });

  it('never deletes records the stack did not publish', async () => {
    await identityWith('e.example.com', [
      batch(new Date(NOW.getTime() - 9 * DAY), [], {
        provider: null,
        hosted_zone_id: null,
        hosted_zone_name: null,
        by_hand: [{ type: 'TXT', name: 'manual._domainkey.e.example.com' }],
      }),
    ]);

    await run();

    expect(route53).not.toHaveReceivedCommand(ListResourceRecordSetsCommand);
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect((await registryItem('e.example.com'))?.stale_removals).toBeUndefined();
  });

  it('keeps a batch for the next run when Route 53 refuses', async () => {
    route53
      .on(ChangeResourceRecordSetsCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    await identityWith('f.example.com', [
      batch(new Date(NOW.getTime() - 8 * DAY), ['old._domainkey.f.example.com']),
    ]);

    const report = await run();

    expect(report.deferred).toBe(1);
    expect((await registryItem('f.example.com'))?.stale_removals).toHaveLength(1);
  });

  it('writes nothing back over a batch another change added meanwhile', async () => {
    await identityWith('g.example.com', [
      batch(new Date(NOW.getTime() - 8 * DAY), ['old._domainkey.g.example.com']),
    ]);
    const appended = batch(NOW, ['newer._domainkey.g.example.com']);

    const report = await removeDueRecords({
      now: NOW,
      graceDays: 7,
      dueItems: (cutoff) => registry.itemsWithStaleRecordsSince(REGISTRY_TABLE, cutoff),
      replaceBatches: async (identity, count, remaining) => {
        // A verified change appends its batch between the read and the write.
        const item = await registryItem(identity);
        await putRegistryItem({
          ...(item as RegistryItem),
          stale_removals: [...(item?.stale_removals ?? []), appended],
        });
        return registry.replaceStaleRemovals(REGISTRY_TABLE, identity, count, remaining);
      },
      remover: new Route53RecordSets({ client: new Route53Client({}), sleep: async () => {} }),
    });

    expect(report.deferred).toBe(0);
    expect((await registryItem('g.example.com'))?.stale_removals).toHaveLength(2);
  });
});
