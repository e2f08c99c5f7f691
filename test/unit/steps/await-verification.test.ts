import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its table, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { claimIdentity } from '#shared/registry/registry.js';
import { useClock } from '#shared/runtime/clock.js';
import { ConflictError } from '#shared/workflow/errors.js';
import { handler } from '#steps/await-verification/handler.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  pendingRun,
  REGISTRY_TABLE,
  registryItem,
} from '#test/support/registry-table.js';
import { lambdaContext } from '#test/unit/api/support.js';

const IDENTITY = 'mail.example.com';
const STARTED = new Date('2026-12-01T10:00:00.000Z');
const NOW = new Date('2026-12-01T10:05:00.000Z');
const awaitInput = { identity: IDENTITY, execution_id: 'run-1', task_token: 'token-1' };

afterAll(async () => {
  await registry.close();
});

describe('AwaitVerification', () => {
  beforeEach(async () => {
    await clearRegistryTable();
    useClock({ now: () => NOW });
  });
  afterEach(() => {
    useClock();
  });

  it("leaves the run's task token in the registry for a waker, and returns at once", async () => {
    await claimIdentity(REGISTRY_TABLE, IDENTITY, 'DOMAIN', pendingRun('run-1', STARTED), STARTED);

    await expect(handler(awaitInput, lambdaContext)).resolves.toEqual({ waiting: true });

    expect(await registryItem(IDENTITY)).toMatchObject({
      task_token: 'token-1',
      active_run_id: 'run-1',
      updated_at: NOW.toISOString(),
    });
  });

  it.each([
    [
      'another run holds the identity',
      () =>
        claimIdentity(REGISTRY_TABLE, IDENTITY, 'DOMAIN', pendingRun('run-2', STARTED), STARTED),
    ],
    [
      'the run has ended',
      async () => {
        await claimIdentity(
          REGISTRY_TABLE,
          IDENTITY,
          'DOMAIN',
          pendingRun('run-1', STARTED),
          STARTED,
        );
        await endRunInRegistry(IDENTITY, 'run-1', 'FAILED', STARTED);
      },
    ],
    ['the identity was offboarded', async () => undefined],
  ])('fails ConflictError, storing no token nobody could find, when %s', async (_when, arrange) => {
    await arrange();

    const waiting = handler(awaitInput, lambdaContext);

    await expect(waiting).rejects.toBeInstanceOf(ConflictError);
    await expect(waiting).rejects.toThrow('Run run-1 no longer holds mail.example.com');
    expect((await registryItem(IDENTITY))?.task_token).toBeUndefined();
  });
});
