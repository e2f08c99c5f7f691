import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListEmailIdentitiesCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CONFIRMING_MISSES,
  decideDrift,
  isProbeDue,
  probeSlot,
  restartRefusal,
} from '#jobs/sweeper/drift.js';
import type { DriftWatchConfig } from '#jobs/sweeper/watch-fleet.js';
import type { RegistryItem } from '#shared/registry/items.js';
import type { DkimDnsRecord, ProbeResult, PublishedRecords } from '#shared/workflow/types.js';
import { startDnsServer, type TestDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import {
  clearRegistryTable,
  pendingRun,
  putRegistryItem,
  REGISTRY_TABLE,
  registryItem,
  startRegistryTable,
} from '#test/support/registry-table.js';

const ses = mockClient(SESv2Client);
const events = mockClient(EventBridgeClient);
const sfn = mockClient(SFNClient);

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
// Minute 0 of the cadence: whatever a name's slot, the tests below pick their instants.
const T0 = new Date('2026-12-01T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

let server: Awaited<ReturnType<typeof startRegistryTable>>;
let dns: TestDnsServer;
const zone: Record<string, ZoneData> = {};
let sweep: typeof import('#jobs/sweeper/sweep.js').sweep;
let repairs: { records: DkimDnsRecord[]; zone: { id: string; name: string } }[] = [];
let config: DriftWatchConfig;

beforeAll(async () => {
  server = await startRegistryTable();
  dns = await startDnsServer(zone);
  ({ sweep } = await import('#jobs/sweeper/sweep.js'));
  config = {
    registryTable: REGISTRY_TABLE,
    intervalMinutes: 60,
    probe: { resolvers: [dns.address], queryAuthoritative: false, timeoutMs: 500 },
    eventBusName: 'default',
    eventSource: 'ses-identity-verifier',
    stateMachineArn: STATE_MACHINE_ARN,
    repair: async (records, target) => {
      repairs.push({ records, zone: target });
      // What Route 53 does: the records are back.
      for (const record of records) zone[record.name] = { CNAME: [record.value] };
      return { written: true, changeId: 'C1', detail: `upserted ${records.length} record(s)` };
    },
  };
});
afterAll(async () => {
  await dns.close();
  await server.close();
});

const TOKENS = ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'];

function recordsOf(domain: string): DkimDnsRecord[] {
  return TOKENS.map((token) => ({
    type: 'CNAME',
    name: `${token}._domainkey.${domain}`,
    value: `${token}.dkim.amazonses.com`,
    ttl: 1800,
  }));
}

/** A domain the registry holds with `status`, its records in DNS, checked just now. */
async function managedDomain(
  domain: string,
  options: {
    status?: RegistryItem['status'];
    provider?: 'route53' | 'manual';
    autoRestart?: boolean;
    checkedAt?: Date;
    /** When the drift watch is next due to look (the claim's instant, T0, by default). */
    probeDueAt?: Date;
    identityType?: RegistryItem['identity_type'];
  } = {},
): Promise<DkimDnsRecord[]> {
  const records = recordsOf(domain);
  for (const record of records) zone[record.name] = { CNAME: [record.value] };
  const provider = options.provider ?? 'route53';
  const published: PublishedRecords = {
    provider,
    provider_reason: 'test',
    hosted_zone_id: provider === 'route53' ? 'ZTEST' : null,
    hosted_zone_name: provider === 'route53' ? 'example.com' : null,
    written: provider === 'route53',
    change_id: null,
    records,
    zone_file: [],
  };
  const status = options.status ?? 'VERIFIED';
  await putRegistryItem({
    identity: domain,
    kind: 'IDENTITY',
    identity_type: options.identityType ?? 'DOMAIN',
    status,
    dkim_status: 'SUCCESS',
    created_at: T0.toISOString(),
    updated_at: T0.toISOString(),
    latest_run: {
      id: `run-${domain}`,
      execution_arn: `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:run-${domain}`,
      operation: 'CreateIdentity',
      request_hash: 'h',
      started_at: T0.toISOString(),
      status: status === 'DEGRADED' ? 'VERIFIED' : (status as 'VERIFIED'),
      reason: null,
      ended_at: T0.toISOString(),
    },
    records_json: JSON.stringify(records),
    published_json: JSON.stringify(published),
    checked_at: (options.checkedAt ?? T0).toISOString(),
    // Set by the claim of the run that ended as `status`: the drift watch's first look is due.
    probe_due_at: (options.probeDueAt ?? T0).toISOString(),
    ...(options.autoRestart !== undefined && { auto_restart: options.autoRestart }),
    restart_request_json: JSON.stringify({
      EmailIdentity: domain,
      Tags: [{ Key: 'tenant', Value: '42' }],
    }),
  });
  return records;
}

function sesSays(statuses: Record<string, string>) {
  ses.on(ListEmailIdentitiesCommand).resolves({
    EmailIdentities: Object.entries(statuses).map(([IdentityName, VerificationStatus]) => ({
      IdentityType: 'DOMAIN',
      IdentityName,
      VerificationStatus: VerificationStatus as 'SUCCESS',
    })),
  });
}

/** The events put on the bus so far, as EventBridge would deliver their details. */
function emitted(): { detailType: string; detail: Record<string, unknown> }[] {
  return events.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      detailType: entry.DetailType as string,
      detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
    })),
  );
}

const probeOf = (statuses: ProbeResult['status'][]): ProbeResult[] =>
  statuses.map((status, i) => ({
    name: `n${i}`,
    type: 'CNAME',
    status,
    expected: 'x',
    found: null,
    detail: null,
  }));

describe('drift decisions', () => {
  it.each([
    ['VERIFIED', 'SUCCESS', ['OK', 'OK'], 0, { action: 'NONE', misses: 0 }],
    ['VERIFIED', 'SUCCESS', ['OK', 'MISSING'], 0, { action: 'NONE', misses: 1 }],
    [
      'VERIFIED',
      'SUCCESS',
      ['OK', 'MISSING'],
      1,
      { action: 'DEGRADE', misses: 2, causes: ['RECORDS_WRONG'] },
    ],
    ['VERIFIED', 'SUCCESS', ['OK', 'ERROR'], 1, { action: 'NONE', misses: 1 }],
    [
      'VERIFIED',
      'TEMPORARY_FAILURE',
      ['OK', 'OK'],
      0,
      { action: 'DEGRADE', misses: 0, causes: ['SES_NOT_SUCCESS'] },
    ],
    ['DEGRADED', 'SUCCESS', ['OK', 'OK'], 2, { action: 'RECOVER', misses: 0 }],
    [
      'DEGRADED',
      'PENDING',
      ['OK', 'OK'],
      0,
      { action: 'STILL_DEGRADED', misses: 0, causes: ['SES_NOT_SUCCESS'] },
    ],
    [
      'DEGRADED',
      'SUCCESS',
      ['WRONG_VALUE', 'OK'],
      2,
      { action: 'STILL_DEGRADED', misses: 3, causes: ['RECORDS_WRONG'] },
    ],
  ] as const)(
    'a %s identity, SES %s, probe %j after %i misses: %j',
    (status, sesStatus, probe, misses, expected) => {
      expect(decideDrift(status, sesStatus, probeOf([...probe]), misses)).toEqual(expected);
    },
  );

  it('needs two probes in a row to count records as drift', () => {
    expect(CONFIRMING_MISSES).toBe(2);
  });

  it('spreads 10,000 identities over the probe interval, each keeping its minute', () => {
    const perSlot = new Array<number>(60).fill(0);
    for (let i = 0; i < 10_000; i += 1) {
      const slot = probeSlot(`tenant${i}.example.com`, 60);
      perSlot[slot] = (perSlot[slot] ?? 0) + 1;
    }
    // 167 a minute on average; no minute gets a crowd.
    expect(Math.max(...perSlot)).toBeLessThan(230);
    expect(Math.min(...perSlot)).toBeGreaterThan(110);
    expect(probeSlot('tenant1.example.com', 60)).toBe(probeSlot('tenant1.example.com', 60));
  });

  it('probes a healthy verified identity only in its minute, or when overdue', () => {
    const identity = 'slot.example.com';
    const slot = probeSlot(identity, 60);
    const state = {
      identity,
      status: 'VERIFIED' as const,
      sesStatus: 'SUCCESS',
      driftMisses: 0,
      checkedAt: T0.toISOString(),
    };
    expect(isProbeDue(state, minutes(slot), 60)).toBe(true);
    expect(isProbeDue(state, minutes(slot + 1), 60)).toBe(false);
    expect(isProbeDue({ ...state, driftMisses: 1 }, minutes(slot + 1), 60)).toBe(true);
    expect(isProbeDue({ ...state, sesStatus: 'PENDING' }, minutes(slot + 1), 60)).toBe(true);
    expect(isProbeDue(state, minutes(121 + ((slot + 1) % 60)), 60)).toBe(true);
    // Due in its minute and not probed since (that sweep ran out of time, or did not run).
    const missed = { ...state, dueAt: minutes(slot).toISOString() };
    expect(isProbeDue(missed, minutes(slot + 3), 60)).toBe(true);
    expect(
      isProbeDue({ ...missed, checkedAt: minutes(slot).toISOString() }, minutes(slot + 3), 60),
    ).toBe(false);
    expect(
      isProbeDue({ ...missed, checkedAt: minutes(slot + 1).toISOString() }, minutes(slot + 3), 60),
    ).toBe(false);
  });

  it.each([
    [
      { identityType: 'EMAIL_ADDRESS' as const },
      /an address restarts with a new verification message/,
    ],
    [{ autoRestart: false }, /AutoRestart is false/],
    [{ restartRequest: null }, /changed how it signs/],
    [
      { restartRequest: { DkimSigningAttributes: { DomainSigningSelector: 's1' } } },
      /keeps no key/,
    ],
    [{ latestRunStartedBy: 'AUTO_RESTART', latestRunStatus: 'FAILED' }, /already restarted/],
  ])('refuses an automatic restart when %j', (changes, message) => {
    const base = {
      identityType: 'DOMAIN' as const,
      autoRestart: true,
      restartRequest: {},
      latestRunStartedBy: undefined,
      latestRunStatus: 'FAILED',
    };
    expect(restartRefusal({ ...base, ...changes })).toMatch(message);
    expect(restartRefusal(base)).toBeNull();
  });
});

describe('sweep with the drift watch', () => {
  beforeEach(async () => {
    ses.reset();
    events.reset();
    sfn.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    repairs = [];
    for (const name of Object.keys(zone)) delete zone[name];
    await clearRegistryTable();
  });

  it('degrades a verified identity whose CNAME is gone on two probes, puts it back in Route 53, then recovers it', async () => {
    const domain = 'drift.example.com';
    const records = await managedDomain(domain);
    sesSays({ [domain]: 'SUCCESS' });
    delete zone[records[1]?.name as string];
    const slot = probeSlot(domain, 60);

    // First miss: counted, nothing said.
    const first = await sweep(REGISTRY_TABLE, minutes(slot), config);
    expect(first.drift).toMatchObject({ probed: 1, degraded: 0 });
    expect(await registryItem(domain)).toMatchObject({ status: 'VERIFIED', drift_misses: 1 });
    expect(emitted()).toEqual([]);

    // Second miss, at the next sweep: drift.
    const second = await sweep(REGISTRY_TABLE, minutes(slot + 1), config);
    expect(second.drift).toMatchObject({ probed: 1, degraded: 1, repaired: 1 });
    expect(await registryItem(domain)).toMatchObject({ status: 'DEGRADED' });
    expect(repairs).toEqual([
      { records: [records[1]], zone: { id: 'ZTEST', name: 'example.com' } },
    ]);
    const [degraded] = emitted();
    expect(degraded?.detailType).toBe('Email Identity Degraded');
    expectValidDetail('Email Identity Degraded', degraded?.detail);
    expect(degraded?.detail).toMatchObject({
      identity: domain,
      ses_status: 'SUCCESS',
      causes: ['RECORDS_WRONG'],
      provider: 'route53',
      repair: { repaired_records: [records[1]], records_to_fix_by_hand: [] },
      auto_restart: { status: 'WAITING', execution_id: null },
    });
    expect(degraded?.detail.diagnosis).toEqual([
      expect.objectContaining({ name: records[0]?.name, status: 'OK' }),
      expect.objectContaining({
        name: records[1]?.name,
        status: 'MISSING',
        expected: records[1]?.value,
        found: null,
      }),
    ]);

    // The repair is in DNS and SES still says SUCCESS: recovered.
    const third = await sweep(REGISTRY_TABLE, minutes(slot + 2), config);
    expect(third.drift).toMatchObject({ recovered: 1 });
    expect(await registryItem(domain)).toMatchObject({ status: 'VERIFIED', drift_misses: 0 });
    const recovered = emitted()[1];
    expect(recovered?.detailType).toBe('Email Identity Recovered');
    expectValidDetail('Email Identity Recovered', recovered?.detail);
  });

  it('takes one miss followed by a right probe as no drift', async () => {
    const domain = 'blip.example.com';
    const records = await managedDomain(domain);
    sesSays({ [domain]: 'SUCCESS' });
    const slot = probeSlot(domain, 60);
    const saved = zone[records[0]?.name as string];
    delete zone[records[0]?.name as string];
    await sweep(REGISTRY_TABLE, minutes(slot), config);
    zone[records[0]?.name as string] = saved as ZoneData;

    await sweep(REGISTRY_TABLE, minutes(slot + 1), config);

    expect(await registryItem(domain)).toMatchObject({ status: 'VERIFIED', drift_misses: 0 });
    expect(emitted()).toEqual([]);
    expect(repairs).toEqual([]);
  });

  it('degrades at once when SES leaves SUCCESS, with the records as our probe finds them', async () => {
    const domain = 'sesdrift.example.com';
    await managedDomain(domain);
    sesSays({ [domain]: 'TEMPORARY_FAILURE' });
    const slot = probeSlot(domain, 60);

    await sweep(REGISTRY_TABLE, minutes(slot + 7), config);

    expect(await registryItem(domain)).toMatchObject({ status: 'DEGRADED' });
    const [degraded] = emitted();
    expectValidDetail('Email Identity Degraded', degraded?.detail);
    expect(degraded?.detail).toMatchObject({
      ses_status: 'TEMPORARY_FAILURE',
      causes: ['SES_NOT_SUCCESS'],
    });
    expect(degraded?.detail.message).toMatch(/SES reports sesdrift.example.com TEMPORARY_FAILURE/);
  });

  it('lists records a person manages with what to do, and writes nothing', async () => {
    const domain = 'byhand.example.com';
    const records = await managedDomain(domain, { provider: 'manual' });
    zone[records[0]?.name as string] = { CNAME: ['elsewhere.example.net'] };
    sesSays({ [domain]: 'SUCCESS' });
    const slot = probeSlot(domain, 60);

    await sweep(REGISTRY_TABLE, minutes(slot), config);
    await sweep(REGISTRY_TABLE, minutes(slot + 1), config);

    expect(repairs).toEqual([]);
    const [degraded] = emitted();
    expectValidDetail('Email Identity Degraded', degraded?.detail);
    expect(degraded?.detail.repair).toMatchObject({
      repaired_records: [],
      records_to_fix_by_hand: [
        {
          name: records[0]?.name,
          value: records[0]?.value,
          status: 'WRONG_VALUE',
          action: expect.stringMatching(/has the value elsewhere.example.net instead of/),
        },
      ],
    });
  });

  it('does not probe a healthy identity outside its minute of the cadence', async () => {
    const domain = 'quiet.example.com';
    await managedDomain(domain);
    sesSays({ [domain]: 'SUCCESS' });
    const slot = probeSlot(domain, 60);
    const asked = dns.questions.length;

    const report = await sweep(REGISTRY_TABLE, minutes(slot + 1), config);

    expect(report.drift).toMatchObject({ watched: 1, probed: 0 });
    expect(dns.questions.length).toBe(asked);
  });

  it('keeps the identity VERIFIED when the Degraded event cannot be delivered, to say it next sweep', async () => {
    const domain = 'noevent.example.com';
    await managedDomain(domain);
    sesSays({ [domain]: 'PENDING' });
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    const report = await sweep(REGISTRY_TABLE, minutes(probeSlot(domain, 60)), config);

    expect(report.drift).toMatchObject({ degraded: 0 });
    expect(await registryItem(domain)).toMatchObject({ status: 'VERIFIED' });
  });

  it('leaves the probes it has no time for to the next sweep, and says how many', async () => {
    const domain = 'late-sweep.example.com';
    await managedDomain(domain);
    sesSays({ [domain]: 'PENDING' });

    const report = await sweep(REGISTRY_TABLE, minutes(probeSlot(domain, 60)), {
      ...config,
      budgetMs: 0,
    });

    expect(report.drift).toMatchObject({ watched: 1, probed: 0, deferred: 1 });
    expect(await registryItem(domain)).toMatchObject({ status: 'VERIFIED' });
  });

  it('makes a probe the sweep had no time for at the next sweep, outside its minute', async () => {
    const domain = 'deferred.example.com';
    const slot = probeSlot(domain, 60);
    await managedDomain(domain, { probeDueAt: minutes(slot) });
    sesSays({ [domain]: 'SUCCESS' });
    const deferred = await sweep(REGISTRY_TABLE, minutes(slot), { ...config, budgetMs: 0 });
    expect(deferred.drift).toMatchObject({ watched: 1, probed: 0, deferred: 1 });

    const next = await sweep(REGISTRY_TABLE, minutes(slot + 1), config);

    expect(next.drift).toMatchObject({ watched: 1, probed: 1 });
    expect(await registryItem(domain)).toMatchObject({
      checked_at: minutes(slot + 1).toISOString(),
      probe_due_at: minutes(slot + 60).toISOString(),
    });
  });

  it('starts a new run’s drift count afresh when a run claims a degraded identity', async () => {
    const domain = 'reclaimed.example.com';
    await managedDomain(domain);
    sesSays({ [domain]: 'PENDING' });
    await sweep(REGISTRY_TABLE, minutes(probeSlot(domain, 60)), config);
    expect(await registryItem(domain)).toMatchObject({ status: 'DEGRADED' });
    const { claimIdentity } = await import('#shared/registry/registry.js');

    await claimIdentity(
      REGISTRY_TABLE,
      domain,
      'DOMAIN',
      { ...pendingRun('retry-run', T0), started_by: 'REQUEST' },
      T0,
    );

    const item = await registryItem(domain);
    expect(item).toMatchObject({ status: 'PENDING', active_run_id: 'retry-run' });
    expect(item?.degraded_at).toBeUndefined();
    expect(item?.drift_misses).toBeUndefined();
  });

  it('restarts a domain SES has FAILED once its records are right, with the request it was created with', async () => {
    const domain = 'restart.example.com';
    await managedDomain(domain, { status: 'TIMED_OUT' });
    sesSays({ [domain]: 'FAILED' });
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: T0 })
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));

    const report = await sweep(REGISTRY_TABLE, minutes(probeSlot(domain, 60)), config);

    expect(report.drift).toMatchObject({ restarted: 1 });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      input: JSON.stringify({ EmailIdentity: domain, Tags: [{ Key: 'tenant', Value: '42' }] }),
    });
    expect(await registryItem(domain)).toMatchObject({
      status: 'PENDING',
      latest_run: { started_by: 'AUTO_RESTART', operation: 'CreateIdentity' },
    });
  });

  it('reads only the identities due in this minute of the cadence, then sets each one its next', async () => {
    // Three healthy domains in three different minutes, as earlier sweeps left them.
    const names = ['one', 'two', 'three', 'four', 'five', 'six'].map((n) => `${n}.example.com`);
    const bySlot = new Map(names.map((name) => [probeSlot(name, 60), name]));
    // The earliest minute first.
    const chosen = [...bySlot]
      .sort(([a], [b]) => a - b)
      .slice(0, 3)
      .map(([, name]) => name);
    for (const domain of chosen) {
      await managedDomain(domain, { probeDueAt: minutes(probeSlot(domain, 60)) });
    }
    sesSays(Object.fromEntries(chosen.map((domain) => [domain, 'SUCCESS'])));
    const slot = probeSlot(chosen[0] as string, 60);

    const report = await sweep(REGISTRY_TABLE, minutes(slot), config);

    expect(report.drift).toMatchObject({ watched: 1, probed: 1 });
    expect(await registryItem(chosen[0] as string)).toMatchObject({
      checked_at: minutes(slot).toISOString(),
      probe_due_at: minutes(slot + 60).toISOString(),
    });
    for (const domain of chosen.slice(1)) {
      expect(await registryItem(domain)).toMatchObject({
        checked_at: T0.toISOString(),
        probe_due_at: minutes(probeSlot(domain, 60)).toISOString(),
      });
    }
  });

  it("looks first after a run's end in the identity's own minute, not at once", async () => {
    const domain = 'fresh.example.com';
    // Just verified: due since its run's claim.
    await managedDomain(domain);
    sesSays({ [domain]: 'SUCCESS' });
    const slot = probeSlot(domain, 60);
    const asked = dns.questions.length;

    const before = await sweep(REGISTRY_TABLE, minutes(slot === 59 ? 0 : slot + 1), config);

    expect(before.drift).toMatchObject({ watched: 1, probed: 0 });
    expect(dns.questions.length).toBe(asked);
    const due = (await registryItem(domain))?.probe_due_at as string;
    expect(probeSlot(domain, 60)).toBe(Math.floor(Date.parse(due) / 60_000) % 60);
    // Not read again before then; probed then.
    const between = await sweep(REGISTRY_TABLE, new Date(Date.parse(due) - 60_000), config);
    expect(between.drift).toMatchObject({ watched: 0, probed: 0 });
    const then = await sweep(REGISTRY_TABLE, new Date(due), config);
    expect(then.drift).toMatchObject({ watched: 1, probed: 1 });
  });

  it('degrades at once a verified identity SES stops listing SUCCESS, outside its minute', async () => {
    const domain = 'notdue.example.com';
    const slot = probeSlot(domain, 60);
    await managedDomain(domain, { probeDueAt: minutes(slot + 60) });
    sesSays({ [domain]: 'TEMPORARY_FAILURE' });

    const report = await sweep(REGISTRY_TABLE, minutes(slot + 7), config);

    expect(report.drift).toMatchObject({ watched: 1, probed: 1, degraded: 1 });
    expect(await registryItem(domain)).toMatchObject({
      status: 'DEGRADED',
      // Degraded: looked at again at the next sweep.
      probe_due_at: minutes(slot + 7).toISOString(),
    });
  });

  it('takes a failed address out of the watch: it never restarts by itself', async () => {
    const address = 'person@example.com';
    await managedDomain(address, { status: 'FAILED', identityType: 'EMAIL_ADDRESS' });
    sesSays({ [address]: 'FAILED' });

    const report = await sweep(REGISTRY_TABLE, minutes(probeSlot(address, 60)), config);

    expect(report.drift).toMatchObject({ watched: 0, probed: 0 });
    expect((await registryItem(address))?.probe_due_at).toBeUndefined();
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('leaves a FAILED domain alone when its records are still wrong, or AutoRestart is false', async () => {
    const wrong = 'stillwrong.example.com';
    const records = await managedDomain(wrong, { status: 'FAILED' });
    delete zone[records[0]?.name as string];
    const off = 'optout.example.com';
    await managedDomain(off, { status: 'FAILED', autoRestart: false });
    sesSays({ [wrong]: 'FAILED', [off]: 'FAILED' });

    // Each in its own minute.
    await sweep(REGISTRY_TABLE, minutes(probeSlot(wrong, 60)), config);
    await sweep(REGISTRY_TABLE, minutes(probeSlot(off, 60)), config);

    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(await registryItem(wrong)).toMatchObject({ status: 'FAILED' });
    expect(await registryItem(off)).toMatchObject({ status: 'FAILED' });
  });
});
