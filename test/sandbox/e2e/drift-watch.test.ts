import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getIdentity, holdAtEvent, postIdentity, terminalEventOf } from './harness.js';

// The drift watch against the whole stack, as a user would see it: a verified domain loses a
// DKIM CNAME (deleted through the Route 53 API, as a DNS clean-up would), the sweeper notices,
// says "Email Identity Degraded", puts the record back, and says "Email Identity Recovered".
// The AWS CLI does the same in scripts/conformance-drift.sh. Once no run waits, virtual time
// flows at the idle pace (real time); the test moves it on as POST /sandbox/clock does (a fetch
// in this process would time out on the virtual clock it runs on). The probe cadence is five
// virtual minutes here (the template's default is 60).
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({
    zones: ['example.com'],
    parameters: { DriftProbeIntervalMinutes: 5 },
  });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

/** The first event of `detailType` for `identity` delivered from now on (or already). */
function nextEvent(identity: string, detailType: string): Promise<DeliveredEvent> {
  const isIt = (e: DeliveredEvent) =>
    e['detail-type'] === detailType && e.detail.identity === identity;
  return new Promise((resolve) => {
    const found = stack.emulators.events.events().find(isIt);
    if (found) return resolve(found);
    const unsubscribe = stack.emulators.events.onEvent((e) => {
      if (!isIt(e)) return;
      unsubscribe();
      resolve(e);
    });
  });
}

async function cnamesIn(zoneId: string, identity: string) {
  const output = await stack.clients.route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
  );
  return (output.ResourceRecordSets ?? [])
    .filter((set) => set.Type === 'CNAME' && set.Name?.endsWith(`._domainkey.${identity}.`))
    .map((set) => ({ name: set.Name, value: set.ResourceRecords?.[0]?.Value }));
}

describe('drift watch', () => {
  it('sees a deleted DKIM CNAME, reports the identity DEGRADED, puts the record back and reports it recovered', async () => {
    const identity = 'drift.example.com';
    const zoneId = stack.emulators.zones.get('example.com')?.id as string;
    expect((await postIdentity(stack, { EmailIdentity: identity })).status).toBe(202);
    const verified = await terminalEventOf(stack, identity);
    expect(verified['detail-type']).toBe('Email Identity Verified');
    expect(verified.detail.started_by).toBe('REQUEST');

    const before = await cnamesIn(zoneId, identity);
    expect(before).toHaveLength(3);
    const gone = before[1] as { name: string; value: string };
    const degradedEvent = holdAtEvent(stack, identity, 'Email Identity Degraded');
    await stack.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: {
                Name: gone.name,
                Type: 'CNAME',
                TTL: 1800,
                ResourceRecords: [{ Value: gone.value }],
              },
            },
          ],
        },
      }),
    );
    expect(await cnamesIn(zoneId, identity)).toHaveLength(2);

    // A quarter of an hour passes: the sweeper probes on its cadence, twice, then says so.
    const advanced = stack.clock.advance(15 * 60_000);
    const { event: degraded, release } = await degradedEvent;
    const goneName = gone.name.replace(/\.$/, '');
    expect(degraded.detail).toMatchObject({
      identity,
      ses_status: 'SUCCESS',
      causes: ['RECORDS_WRONG'],
      provider: 'route53',
      repair: { records_to_fix_by_hand: [] },
    });
    expect(degraded.detail.diagnosis).toContainEqual(
      expect.objectContaining({ name: goneName, status: 'MISSING', found: null }),
    );
    expect(
      (degraded.detail.repair as { repaired_records: { name: string }[] }).repaired_records,
    ).toEqual([expect.objectContaining({ name: goneName })]);
    // While the event is being delivered, the API shows the identity DEGRADED.
    const during = await getIdentity(stack, identity);
    expect((during.body.data as { status: string }).status).toBe('DEGRADED');
    const listed = await fetch(`${stack.apiUrl}/identities?status=DEGRADED`);
    expect(
      ((await listed.json()) as { data: { items: { identity: string }[] } }).data.items.map(
        (item) => item.identity,
      ),
    ).toContain(identity);
    const recoveredEvent = nextEvent(identity, 'Email Identity Recovered');
    release();

    const recovered = await recoveredEvent;
    await advanced;
    expect(recovered.detail).toMatchObject({ identity, ses_status: 'SUCCESS' });
    expect(
      (recovered.detail.diagnosis as { status: string }[]).every((r) => r.status === 'OK'),
    ).toBe(true);
    expect(await cnamesIn(zoneId, identity)).toEqual(expect.arrayContaining(before));
    const after = await getIdentity(stack, identity);
    expect((after.body.data as { status: string }).status).toBe('VERIFIED');
  }, 120_000);
});
