import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { postIdentity, TERMINAL_DETAIL_TYPES } from './harness.js';

// A BYODKIM key rotation in the sandbox, as a user makes it over HTTP, with DNS read from the
// sandbox's name server: the new selector is out before SES is switched, both selectors answer
// during the grace period, and the old one goes after 7 virtual days (the stale-record remover,
// on its hourly schedule).
let stack: SandboxStack;
const IDENTITY = 'grace.example.com';
const DAY_MS = 24 * 3600_000;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  for (const event of stack?.emulators.events.events() ?? []) {
    expectValidDetail(event['detail-type'], event.detail);
  }
  await stack?.stop();
});

/** The TXT answer of the sandbox's name server for a selector, or null (NXDOMAIN, no data). */
async function dkimTxt(selector: string): Promise<string | null> {
  const resolver = new Resolver();
  resolver.setServers([`127.0.0.1:${stack.dnsPort}`]);
  try {
    const answers = await resolver.resolveTxt(`${selector}._domainkey.${IDENTITY}`);
    return answers.map((strings) => strings.join('')).join(' ') || null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return null;
    throw error;
  }
}

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

/** Lets virtual time run on until `at` (epoch ms of the sandbox's clock). */
function until(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

describe('a BYODKIM key rotation in the sandbox', () => {
  it('keeps both selectors in DNS for the grace period and removes the old one after 7 virtual days', async () => {
    const created = await postIdentity(stack, {
      EmailIdentity: IDENTITY,
      DkimSigningAttributes: { DomainSigningSelector: 's1', GenerateDomainSigningKey: {} },
    });
    expect(created.status).toBe(202);
    expect((await terminalEventOfRun(created.body.data.id))['detail-type']).toBe(
      'Email Identity Verified',
    );
    const oldKey = await dkimTxt('s1');
    expect(oldKey).toMatch(/^v=DKIM1; k=rsa; p=MI/);

    const response = await fetch(`${stack.apiUrl}/identities/${IDENTITY}/dkim`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { GenerateDomainSigningKey: {} },
      }),
    });
    expect(response.status).toBe(202);
    const run = ((await response.json()) as { data: { id: string } }).data;
    const rotated = await terminalEventOfRun(run.id);
    expect(rotated['detail-type']).toBe('Email Identity Verified');
    const change = rotated.detail.change as { kind: string; to: { selector: string } };
    expect(change.kind).toBe('BYODKIM_KEY_ROTATION');
    const newSelector = change.to.selector;
    expect(newSelector).toMatch(/^ses-\d{8}$/);
    expect(rotated.detail.cleanup).toMatchObject({
      removed_records: [],
      scheduled_records: [{ type: 'TXT', name: `s1._domainkey.${IDENTITY}` }],
    });
    const verifiedAt = Date.now();

    // The grace period: both selectors answer, the old one with its old key.
    expect(await dkimTxt('s1')).toBe(oldKey);
    expect(await dkimTxt(newSelector)).toMatch(/^v=DKIM1; k=rsa; p=MI/);
    expect(await dkimTxt(newSelector)).not.toBe(oldKey);

    // Nothing is waiting on SES any more: the sweeper's every-minute sweeps would only find
    // nothing for 7 virtual days. The stale-record remover keeps its hourly schedule.
    stack.schedules.get('sweeper')?.stop();
    await until(verifiedAt + 6 * DAY_MS);
    expect(await dkimTxt('s1')).toBe(oldKey);

    await until(verifiedAt + 7 * DAY_MS + 2 * 3600_000);
    expect(await dkimTxt('s1')).toBeNull();
    expect(await dkimTxt(newSelector)).toMatch(/^v=DKIM1; k=rsa; p=MI/);
    expect(stack.schedules.get('stale-record-remover')?.stats.invocations).toBeGreaterThanOrEqual(
      7 * 24,
    );
  }, 120_000);
});
