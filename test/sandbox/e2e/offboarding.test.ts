import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { CreateEmailIdentityCommand, GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getIdentity, holdWhenAsleep, postIdentity, terminalEventOf } from './harness.js';

// DELETE /identities/{identity} over HTTP against the whole stack, as a user would try it. The
// test reads SES itself to see what is gone, so SES's rate is off here (ses-rate.test.ts is
// about the rate; the DeleteIdentity step waits in the same line as the others).
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

async function deleteIdentity(identity: string, query = '') {
  const response = await fetch(`${stack.apiUrl}/identities/${identity}${query}`, {
    method: 'DELETE',
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data: { id: string; repeated: boolean; stopped_run: string | null };
      error?: { code: string; message: string };
    },
  };
}

function deletedEventOf(identity: string): Promise<DeliveredEvent> {
  const isIt = (e: DeliveredEvent) =>
    e['detail-type'] === 'Email Identity Deleted' && e.detail.identity === identity;
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

/** Holds virtual time once the offboarding run of `identity` waits in line for SES. */
function holdAtDeletion(identity: string): Promise<() => void> {
  return new Promise((resolve) => {
    const unsubscribe = stack.stateMachine.subscribe((execution, event) => {
      const input = JSON.parse(execution.input) as { Operation?: string; EmailIdentity?: string };
      if (input.Operation !== 'DeleteIdentity' || input.EmailIdentity !== identity) return;
      if (event.type !== 'TaskSubmitted') return;
      unsubscribe();
      resolve(stack.clock.hold());
    });
  });
}

async function dkimRecordSets(identity: string): Promise<string[]> {
  const output = await stack.clients.route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: stack.emulators.zones.get('example.com')?.id,
    }),
  );
  return (output.ResourceRecordSets ?? [])
    .map((set) => `${set.Type} ${set.Name}`)
    .filter((name) => name.endsWith(`._domainkey.${identity}.`));
}

async function sesKnows(identity: string): Promise<boolean> {
  try {
    await stack.clients.sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return false;
    throw error;
  }
}

describe('DELETE /identities/{identity}', () => {
  it('offboards a verified Route 53 domain: SES identity, its records and its registry item go, once', async () => {
    const identity = 'leaving.example.com';
    const created = await postIdentity(stack, { EmailIdentity: identity });
    expect(created.status).toBe(202);
    expect((await terminalEventOf(stack, identity))['detail-type']).toBe('Email Identity Verified');
    expect(await dkimRecordSets(identity)).toHaveLength(3);
    const held = holdAtDeletion(identity);

    const first = await deleteIdentity(identity);
    const release = await held;
    const again = await deleteIdentity(identity);
    release();
    const deleted = await deletedEventOf(identity);

    expect(first.status).toBe(202);
    expect(first.body.data).toMatchObject({ repeated: false, stopped_run: null });
    expect(again.status).toBe(202);
    expect(again.body.data).toMatchObject({ id: first.body.data.id, repeated: true });
    expect(deleted.detail).toMatchObject({
      identity,
      execution_id: first.body.data.id,
      unmanaged: false,
      ses_identity_deleted: true,
      dns: { provider: 'route53', records_to_remove_by_hand: [] },
    });
    expect((deleted.detail.dns as { removed_records: unknown[] }).removed_records).toHaveLength(3);
    expect(await dkimRecordSets(identity)).toEqual([]);
    expect(await sesKnows(identity)).toBe(false);
    expect((await getIdentity(stack, identity)).status).toBe(404);
    const afterwards = await deleteIdentity(identity);
    expect(afterwards.status).toBe(404);
    expect(afterwards.body.error?.code).toBe('NOT_FOUND');
  }, 60_000);

  it('stops the run that holds a manual domain and lists the records a person should remove', async () => {
    const identity = 'waiting.example.com';
    const asleep = holdWhenAsleep(stack, identity);
    const created = await postIdentity(stack, {
      EmailIdentity: identity,
      Dns: { Provider: 'manual' },
    });
    const release = await asleep;
    const answer = await deleteIdentity(identity);
    release();
    const deleted = await deletedEventOf(identity);

    expect(answer.status).toBe(202);
    expect(answer.body.data.stopped_run).toBe(created.body.data.id);
    const stopped = stack.stateMachine.describe(created.body.data.execution_arn);
    expect(stopped.status).toBe('ABORTED');
    expect(deleted.detail).toMatchObject({
      stopped_run: created.body.data.id,
      ses_identity_deleted: true,
      dns: { provider: 'manual', removed_records: [] },
    });
    expect(
      (deleted.detail.dns as { records_to_remove_by_hand: unknown[] }).records_to_remove_by_hand,
    ).toHaveLength(3);
    expect(await sesKnows(identity)).toBe(false);
    // The stopped run never emits a terminal event of its own.
    const terminal = stack.emulators.events
      .events()
      .filter((e) => e.detail.execution_id === created.body.data.id)
      .map((e) => e['detail-type']);
    expect(terminal).toEqual(['DNS Records Required']);
  }, 60_000);

  it('deletes an identity the stack never managed only when asked with ?unmanaged=true', async () => {
    const identity = 'outsider.example.com';
    await stack.clients.sesv2.send(new CreateEmailIdentityCommand({ EmailIdentity: identity }));

    const refused = await deleteIdentity(identity);
    const accepted = await deleteIdentity(identity, '?unmanaged=true');
    const deleted = await deletedEventOf(identity);

    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('CONFLICT');
    expect(refused.body.error?.message).toContain('?unmanaged=true');
    expect(accepted.status).toBe(202);
    expect(deleted.detail).toMatchObject({
      unmanaged: true,
      ses_identity_deleted: true,
      dns: { provider: null, removed_records: [], records_to_remove_by_hand: [] },
    });
    expect(await sesKnows(identity)).toBe(false);
  }, 60_000);

  it.each([
    ['a malformed identity', 'bad..example.com', 400, 'VALIDATION_ERROR'],
    ['an unknown identity', 'nobody-here.example.com', 404, 'NOT_FOUND'],
    ['a bad unmanaged flag', 'nobody-here.example.com?unmanaged=yes', 400, 'VALIDATION_ERROR'],
  ])('answers %s with %s', async (_label, path, status, code) => {
    const answer = await deleteIdentity(path);

    expect(answer.status).toBe(status);
    expect(answer.body.error?.code).toBe(code);
  });
});
