import { ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { importHandler } from '#sandbox/asl-runner/handlers.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { postIdentity, terminalEventOf } from './harness.js';

// Lambda initialises a function (imports its module) on its first request, not when the stack
// is deployed; the sandbox does the same, so a run never pays for functions it does not call.
vi.mock('#sandbox/asl-runner/handlers.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('#sandbox/asl-runner/handlers.js')>();
  return { importHandler: vi.fn(original.importHandler) };
});

let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'] });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe("a function's module", () => {
  it('is imported by its first invocation, once, and only for the functions a run calls', async () => {
    expect(importHandler).not.toHaveBeenCalled();

    const started = await postIdentity(stack, { EmailIdentity: 'init.example.com' });
    expect(started.status).toBe(202);
    const terminal = await terminalEventOf(stack, 'init.example.com');
    expect(terminal['detail-type']).toBe('Email Identity Verified');

    const imported = vi.mocked(importHandler).mock.calls.map(([folder]) => folder);
    expect(imported).toContain('api/start-verification');
    expect(imported).toContain('steps/claim-identity');
    expect(imported).toContain('jobs/ses-worker');
    expect(new Set(imported).size).toBe(imported.length);
    // Nothing of offboarding or of a DKIM change ran, so nothing of them was imported.
    expect(imported).not.toContain('api/offboard-identity');
    expect(imported).not.toContain('steps/prepare-dkim-change');

    const again = await postIdentity(stack, { EmailIdentity: 'init2.example.com' });
    expect(again.status).toBe(202);
    await terminalEventOf(stack, 'init2.example.com');
    const afterSecond = vi.mocked(importHandler).mock.calls.map(([folder]) => folder);
    expect(new Set(afterSecond).size).toBe(afterSecond.length);
  });
});

describe("the sandbox's own SDK clients", () => {
  it('are made when first used, once, and reach the sandbox', async () => {
    const route53 = stack.clients.route53;
    expect(stack.clients.route53).toBe(route53);
    const zones = await route53.send(new ListHostedZonesCommand({}));
    expect(zones.HostedZones?.map((zone) => zone.Name)).toContain('example.com.');
  });
});
