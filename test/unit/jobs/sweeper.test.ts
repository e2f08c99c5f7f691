import { ListEmailIdentitiesCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '#shared/registry/items.js';
import { REGISTRY_TABLE, startRegistryTable } from '#test/support/registry-table.js';

const ses = mockClient(SESv2Client);
const sfn = mockClient(SFNClient);
const NOW = new Date('2026-12-01T10:00:00.000Z');

let server: Awaited<ReturnType<typeof startRegistryTable>>;
let registry: typeof import('#shared/registry/registry.js');
let sweep: typeof import('#jobs/sweeper/sweep.js').sweep;
let counter = 0;

beforeAll(async () => {
  server = await startRegistryTable();
  registry = await import('#shared/registry/registry.js');
  ({ sweep } = await import('#jobs/sweeper/sweep.js'));
});
afterAll(async () => {
  await server.close();
});

/** A run for a fresh identity, waiting on SES with a token. */
async function waitingRun(
  options: { waiting?: boolean } = {},
): Promise<{ identity: string; token: string }> {
  counter += 1;
  const identity = `sweep${counter}.example.com`;
  const run: RunRecord = {
    id: `run-${counter}`,
    execution_arn: `arn:aws:states:us-east-1:000000000000:execution:VerifyEmailIdentity:run-${counter}`,
    operation: 'CreateIdentity',
    request_hash: `h${counter}`,
    started_at: NOW.toISOString(),
    status: 'PENDING',
    reason: null,
    ended_at: null,
  };
  await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run, NOW);
  const token = `token-${counter}`;
  if (options.waiting !== false)
    await registry.storeTaskToken(REGISTRY_TABLE, identity, run.id, token, NOW);
  return { identity, token };
}

/** SES's bulk answer: these identities with these statuses, on one page. */
function sesSays(statuses: Record<string, string>) {
  ses.on(ListEmailIdentitiesCommand).resolves({
    EmailIdentities: Object.entries(statuses).map(([IdentityName, VerificationStatus]) => ({
      IdentityType: 'DOMAIN',
      IdentityName,
      VerificationStatus: VerificationStatus as 'SUCCESS',
      SendingEnabled: true,
    })),
  });
}

describe('sweep', () => {
  beforeEach(async () => {
    ses.reset();
    sfn.reset();
    // Each test starts with no waiting run left from the one before.
    for await (const item of registry.identitiesWithStatus(REGISTRY_TABLE, 'PENDING'))
      await registry.takeTaskToken(REGISTRY_TABLE, item.identity);
  });

  it('asks SES nothing when no run is waiting', async () => {
    await waitingRun({ waiting: false });

    expect(await sweep(REGISTRY_TABLE, NOW)).toEqual({ ses_pages: 0, waiting: 0, woken: 0 });
    expect(ses).not.toHaveReceivedCommand(ListEmailIdentitiesCommand);
  });

  it('wakes a waiting run once SES verifies its identity, and only once', async () => {
    const run = await waitingRun();
    sesSays({ [run.identity]: 'SUCCESS' });

    expect(await sweep(REGISTRY_TABLE, NOW)).toEqual({ ses_pages: 1, waiting: 1, woken: 1 });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: run.token,
      output: JSON.stringify({ woken_by: 'sweeper', ses_status: 'SUCCESS' }),
    });
    expect(await registry.getIdentityItem(REGISTRY_TABLE, run.identity)).toMatchObject({
      ses_status: 'SUCCESS',
    });
    expect(
      (await registry.getIdentityItem(REGISTRY_TABLE, run.identity))?.task_token,
    ).toBeUndefined();

    sfn.reset();
    expect(await sweep(REGISTRY_TABLE, NOW)).toEqual({ ses_pages: 0, waiting: 0, woken: 0 });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('notes a first PENDING without waking the run, and wakes it when PENDING turns FAILED', async () => {
    const run = await waitingRun();
    sesSays({ [run.identity]: 'PENDING' });

    expect((await sweep(REGISTRY_TABLE, NOW)).woken).toBe(0);
    expect(await registry.getIdentityItem(REGISTRY_TABLE, run.identity)).toMatchObject({
      ses_status: 'PENDING',
      task_token: run.token,
    });
    expect((await sweep(REGISTRY_TABLE, NOW)).woken).toBe(0);

    sesSays({ [run.identity]: 'FAILED' });
    expect((await sweep(REGISTRY_TABLE, NOW)).woken).toBe(1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      output: JSON.stringify({ woken_by: 'sweeper', ses_status: 'FAILED' }),
    });
  });

  it('wakes a run whose identity is no longer in SES', async () => {
    const run = await waitingRun();
    sesSays({});

    expect((await sweep(REGISTRY_TABLE, NOW)).woken).toBe(1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: run.token,
      output: JSON.stringify({ woken_by: 'sweeper', ses_status: 'NOT_FOUND' }),
    });
  });

  it('reads SES a thousand identities a page, following NextToken', async () => {
    const run = await waitingRun();
    ses
      .on(ListEmailIdentitiesCommand, { PageSize: 1000, NextToken: undefined })
      .resolves({ EmailIdentities: [], NextToken: 'page-2' })
      .on(ListEmailIdentitiesCommand, { PageSize: 1000, NextToken: 'page-2' })
      .resolves({
        EmailIdentities: [{ IdentityName: run.identity, VerificationStatus: 'SUCCESS' }],
      });

    const report = await sweep(REGISTRY_TABLE, NOW);

    expect(report).toMatchObject({ ses_pages: 2, woken: 1 });
    expect(ses).toHaveReceivedCommandTimes(ListEmailIdentitiesCommand, 2);
  });

  it('counts no wake-up for a run that stopped waiting before its token arrived', async () => {
    const run = await waitingRun();
    sesSays({ [run.identity]: 'SUCCESS' });
    sfn
      .on(SendTaskSuccessCommand)
      .rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));

    expect((await sweep(REGISTRY_TABLE, NOW)).woken).toBe(0);
  });
});
