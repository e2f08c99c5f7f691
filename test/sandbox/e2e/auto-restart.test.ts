import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { holdAtEvent, postIdentity, TERMINAL_DETAIL_TYPES } from './harness.js';

// The automatic restart, end to end: a manual-DNS domain times out, a person adds its records
// afterwards, and the stack restarts SES's verification by itself (AutoRestart, on by default)
// instead of waiting for a retry. The schedule is off and the test runs the sweeper at each
// virtual minute itself, so that the 72 hours before the time-out race by without 4,320 sweeps.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({
    zones: ['example.com'],
    schedules: false,
    parameters: { DriftProbeIntervalMinutes: 5 },
  });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

function terminalEventOfRun(executionId: string): Promise<DeliveredEvent> {
  const isIt = (e: DeliveredEvent) =>
    TERMINAL_DETAIL_TYPES.includes(e['detail-type']) && e.detail.execution_id === executionId;
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

/** What a person does with the records an event lists: add them to the zone. */
async function addRecords(records: { type: string; name: string; value: string }[]) {
  await stack.clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: stack.emulators.zones.get('example.com')?.id,
      ChangeBatch: {
        Changes: records.map((record) => ({
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: record.name,
            Type: record.type as 'CNAME',
            TTL: 300,
            ResourceRecords: [{ Value: record.value }],
          },
        })),
      },
    }),
  );
}

describe('automatic restart', () => {
  it('restarts a timed-out domain once its records are right, and says so in the new run’s events', async () => {
    const identity = 'late.example.com';
    const first = await postIdentity(stack, {
      EmailIdentity: identity,
      Dns: { Provider: 'manual' },
    });
    expect(first.status).toBe(202);
    const timedOut = await terminalEventOfRun(first.body.data.id);
    expect(timedOut.detail.reason).toMatchObject({ code: 'TIMED_OUT' });

    // Too late for SES, which has given up (FAILED): the person adds the records anyway.
    await addRecords(timedOut.detail.records as never);
    const required = holdAtEvent(stack, identity, 'DNS Records Required');
    let restarted = 0;
    // The sweeper at each minute; within one probe interval it looks at the identity.
    for (let minute = 0; minute <= 6 && restarted === 0; minute += 1) {
      await stack.clock.advance(60_000);
      const report = (await stack.invoke('sweeper', {})) as { drift: { restarted: number } };
      restarted = report.drift.restarted;
    }
    expect(restarted).toBe(1);

    const { event, release } = await required;
    expect(event.detail.execution_id).not.toBe(first.body.data.id);
    expect(event.detail).toMatchObject({
      started_by: 'AUTO_RESTART',
      restart: { method: 'RECREATED' },
    });
    // An Easy DKIM restart means new tokens: the person adds the new records too.
    await addRecords(event.detail.records as never);
    release();
    const checked = await fetch(`${stack.apiUrl}/identities/${identity}/check`, { method: 'POST' });
    expect(checked.status).toBe(200);
    const verified = await terminalEventOfRun(event.detail.execution_id as string);

    expect(verified['detail-type']).toBe('Email Identity Verified');
    expect(verified.detail.started_by).toBe('AUTO_RESTART');
  }, 180_000);
});
