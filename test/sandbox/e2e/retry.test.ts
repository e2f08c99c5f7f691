import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getJson, holdAtEvent, TERMINAL_DETAIL_TYPES } from './harness.js';

// A new run after a failed or timed-out one, as a person retries over HTTP: the same request
// with a new Idempotency-Key. SES's verification starts again and the identity verifies.
// The sweeper is off: with nothing to wake for three days it would only cost wall time; a
// person's check wakes the runs here instead (the state machine tests cover the sweeper).
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], schedules: false });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

async function post(body: unknown, idempotencyKey?: string) {
  const response = await fetch(`${stack.apiUrl}/identities`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(idempotencyKey && { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data: { id: string; repeated: boolean } },
  };
}

/** The terminal event of one run, once delivered. */
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

/** What a person does with "DNS Records Required": add every record to the zone. */
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

describe('retries that work', () => {
  it('verifies a domain whose manual run timed out, once the CNAMEs are added and a new key is sent', async () => {
    const identity = 'late.example.com';
    const request = { EmailIdentity: identity, Dns: { Provider: 'manual' } };
    const first = await post(request);
    expect(first.status).toBe(202);
    const timedOut = await terminalEventOfRun(first.body.data.id);
    expect(timedOut['detail-type']).toBe('Email Identity Verification Failed');
    expect(timedOut.detail.reason).toMatchObject({ code: 'TIMED_OUT', retryable: true });

    // The person adds the records the failure event lists, then retries.
    await addRecords(timedOut.detail.records as never);
    const required = holdAtEvent(stack, identity, 'DNS Records Required');
    const retry = await post(request, 'after-adding-the-records');
    expect(retry.status).toBe(202);
    expect(retry.body.data).toMatchObject({ repeated: false });
    expect(retry.body.data.id).not.toBe(first.body.data.id);

    // SES had given up (FAILED after its 72 hours): the identity is made again, with new
    // tokens, and the event says so and lists the records to add now.
    const { event, release } = await required;
    expect(event.detail.execution_id).toBe(retry.body.data.id);
    expect(event.detail.restart).toMatchObject({ method: 'RECREATED' });
    await addRecords(event.detail.records as never);
    release();
    const verified = await terminalEventOfRun(retry.body.data.id);

    expect(verified['detail-type']).toBe('Email Identity Verified');
    expect(verified.detail.restart).toMatchObject({ method: 'RECREATED' });
    // The run's last look took this second's GetEmailIdentity at SES's rate; GET's live view of
    // SES would be throttled (and answer ses: null) within the same virtual second.
    await stack.clock.advance(1_000);
    const status = await getJson<{
      data: { status: string; ses: { verified_for_sending: boolean } };
    }>(`${stack.apiUrl}/identities/${identity}`);
    expect(status.body.data).toMatchObject({
      status: 'VERIFIED',
      ses: { verified_for_sending: true },
    });
  }, 180_000);

  it('sends an address a new link when its run failed, and verifies once that link is followed', async () => {
    const identity = 'slow@example.com';
    const first = await post({ EmailIdentity: identity });
    expect(first.status).toBe(202);
    const failed = await terminalEventOfRun(first.body.data.id);
    expect(failed['detail-type']).toBe('Email Identity Verification Failed');
    expect(stack.emulators.ses.mailbox(identity)).toHaveLength(1);

    const mail = new Promise<() => void>((resolve) => {
      const unsubscribe = stack.emulators.ses.onMessage((message) => {
        if (message.to !== identity) return;
        unsubscribe();
        resolve(stack.clock.hold());
      });
    });
    const retry = await post({ EmailIdentity: identity }, 'send-a-new-link');
    expect(retry.status).toBe(202);
    const release = await mail;
    const messages = stack.emulators.ses.mailbox(identity);
    expect(messages).toHaveLength(2);
    const confirmation = await getJson<{ status: string }>(messages[1]?.confirmationUrl ?? '');
    release();
    const checked = await fetch(`${stack.apiUrl}/identities/${identity}/check`, { method: 'POST' });
    expect(checked.status).toBe(200);
    const verified = await terminalEventOfRun(retry.body.data.id);

    expect(confirmation.body.status).toBe('confirmed');
    expect(verified['detail-type']).toBe('Email Identity Verified');
    expect(verified.detail.identity_type).toBe('EMAIL_ADDRESS');
  }, 180_000);
});
