import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { getIdentity, postIdentity, terminalEventOf } from './harness.js';

// A DKIM change that changes nothing, over HTTP against the whole stack: it answers with the
// identity as it is and starts no run (it used to start one that ended in an internal error).
let stack: SandboxStack;
const IDENTITY = 'same.example.com';

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

async function putDkim(body: unknown) {
  const response = await fetch(`${stack.apiUrl}/identities/${IDENTITY}/dkim`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('a DKIM change that changes nothing', () => {
  it('answers 200 with the identity as GET shows it, and starts no run', async () => {
    const created = await postIdentity(stack, { EmailIdentity: IDENTITY });
    expect(created.status).toBe(202);
    expect((await terminalEventOf(stack, IDENTITY))['detail-type']).toBe('Email Identity Verified');
    const runsBefore = stack.stateMachine.list().length;
    const eventsBefore = stack.emulators.events.events().length;

    for (const body of [
      { SigningAttributesOrigin: 'AWS_SES' },
      {
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      },
    ]) {
      const answer = await putDkim(body);
      const view = await getIdentity(stack, IDENTITY);

      expect(answer.status).toBe(200);
      // The sweeper may note SES's status between the two answers: only then do they differ.
      const stable = (body: unknown) => ({
        ...(body as { data: object }).data,
        updated_at: null,
        checked_at: null,
      });
      expect(stable(answer.body)).toEqual(stable(view.body));
      expect(answer.body).toMatchObject({
        success: true,
        data: { identity: IDENTITY, status: 'VERIFIED', dkim_status: 'SUCCESS', managed: true },
      });
    }
    expect(stack.stateMachine.list()).toHaveLength(runsBefore);
    expect(stack.emulators.events.events()).toHaveLength(eventsBefore);
  }, 60_000);
});
