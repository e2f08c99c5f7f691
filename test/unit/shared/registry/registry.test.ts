import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '#shared/registry/items.js';
import {
  endRunInRegistry,
  pendingRun,
  REGISTRY_TABLE,
  registryItem,
  startRegistryTable,
} from '#test/support/registry-table.js';

let server: Awaited<ReturnType<typeof startRegistryTable>>;
let registry: typeof import('#shared/registry/registry.js');
let InvalidPageTokenError: typeof import('#shared/registry/registry.js').InvalidPageTokenError;
let identityCounter = 0;
let identity: string;

const NOW = new Date('2026-12-01T10:00:00.000Z');

function run(id: string, requestHash = `hash-of-${id}`): RunRecord {
  return pendingRun(id, NOW, requestHash);
}

beforeAll(async () => {
  server = await startRegistryTable();
  registry = await import('#shared/registry/registry.js');
  InvalidPageTokenError = registry.InvalidPageTokenError;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  identityCounter += 1;
  identity = `t${identityCounter}.example.com`;
});

/** What the workflow's terminal state does: the run ends, the identity is free again. */
async function endRun(runId: string, at = NOW) {
  await endRunInRegistry(identity, runId, 'VERIFIED', at);
}

describe('claimIdentity', () => {
  it('claims a new identity: the item is PENDING, held by the run, with the run as its latest', async () => {
    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-a'),
      NOW,
    );

    expect(outcome).toEqual({ claimed: true, previous: undefined });
    expect(await registry.getIdentityItem(REGISTRY_TABLE, identity)).toMatchObject({
      identity,
      kind: 'IDENTITY',
      identity_type: 'DOMAIN',
      status: 'PENDING',
      active_run_id: 'run-a',
      latest_run: run('run-a'),
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
    });
  });

  it('refuses a different run while one holds the identity, and shows the holder', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);

    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-b'),
      NOW,
    );

    expect(outcome.claimed).toBe(false);
    expect(outcome.claimed === false && outcome.item.active_run_id).toBe('run-a');
  });

  it('does not claim again for a run that already holds the identity', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);

    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-a'),
      NOW,
    );

    expect(outcome.claimed).toBe(false);
    expect(outcome.claimed === false && outcome.item.latest_run?.id).toBe('run-a');
  });

  it('does not run a finished run again, but lets a new run claim the identity', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await endRun('run-a');

    expect(
      (await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW)).claimed,
    ).toBe(false);
    const later = new Date(NOW.getTime() + 60_000);
    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-b'),
      later,
    );
    expect(outcome.claimed).toBe(true);
    expect(outcome.claimed && outcome.previous?.status).toBe('VERIFIED');
    // The identity keeps the day the stack first took it on.
    expect(await registry.getIdentityItem(REGISTRY_TABLE, identity)).toMatchObject({
      created_at: NOW.toISOString(),
      updated_at: later.toISOString(),
      active_run_id: 'run-b',
    });
  });

  it('lets exactly one of 20 different runs claiming at the same instant win', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run(`run-${i}`), NOW),
      ),
    );

    const winners = outcomes.filter((outcome) => outcome.claimed);
    expect(winners).toHaveLength(1);
    const holder = (await registry.getIdentityItem(REGISTRY_TABLE, identity))?.active_run_id;
    for (const outcome of outcomes) {
      if (!outcome.claimed) expect(outcome.item.active_run_id).toBe(holder);
    }
  });
});

describe('releaseClaim', () => {
  it('deletes the item a failed start created', async () => {
    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-a'),
      NOW,
    );

    await registry.releaseClaim(
      REGISTRY_TABLE,
      identity,
      'run-a',
      outcome.claimed ? outcome.previous : undefined,
    );

    expect(await registry.getIdentityItem(REGISTRY_TABLE, identity)).toBeUndefined();
  });

  it('puts back the item as it was before the claim', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await endRun('run-a');
    const before = await registry.getIdentityItem(REGISTRY_TABLE, identity);
    const outcome = await registry.claimIdentity(
      REGISTRY_TABLE,
      identity,
      'DOMAIN',
      run('run-b'),
      NOW,
    );

    await registry.releaseClaim(
      REGISTRY_TABLE,
      identity,
      'run-b',
      outcome.claimed ? outcome.previous : undefined,
    );

    expect(await registry.getIdentityItem(REGISTRY_TABLE, identity)).toEqual(before);
  });

  it('leaves the item alone when another run holds it', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);

    await registry.releaseClaim(REGISTRY_TABLE, identity, 'run-b', undefined);

    expect((await registry.getIdentityItem(REGISTRY_TABLE, identity))?.active_run_id).toBe('run-a');
  });
});

describe('task tokens in the registry', () => {
  it('stores the token of the run that holds the identity, and no other', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);

    expect(await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-b', 'token-b', NOW)).toBe(
      false,
    );
    expect(await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW)).toBe(
      true,
    );
    expect((await registry.getIdentityItem(REGISTRY_TABLE, identity))?.task_token).toBe('token-a');
  });

  it('hands the token to exactly one waker', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW);

    const taken = await Promise.all([
      registry.takeTaskToken(REGISTRY_TABLE, identity),
      registry.takeTaskToken(REGISTRY_TABLE, identity),
    ]);

    expect(taken.filter((token) => token !== undefined)).toEqual(['token-a']);
    expect((await registry.getIdentityItem(REGISTRY_TABLE, identity))?.task_token).toBeUndefined();
  });

  it('has no token to hand out when no run waits', async () => {
    expect(await registry.takeTaskToken(REGISTRY_TABLE, 'nobody.example.com')).toBeUndefined();
  });
  it('puts back a token a waker took but could not deliver, while the run still holds the identity', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW);
    const token = await registry.takeTaskToken(REGISTRY_TABLE, identity);

    await registry.restoreTaskToken(REGISTRY_TABLE, identity, token ?? '');

    expect(await registry.takeTaskToken(REGISTRY_TABLE, identity)).toBe('token-a');
  });

  it('does not put back a token once the run has ended', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW);
    await registry.takeTaskToken(REGISTRY_TABLE, identity);
    await endRun('run-a');

    await registry.restoreTaskToken(REGISTRY_TABLE, identity, 'token-a');

    expect((await registryItem(identity))?.task_token).toBeUndefined();
  });

  it('does not overwrite the newer token of a run that waits again meanwhile', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-1', NOW);
    await registry.takeTaskToken(REGISTRY_TABLE, identity);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-2', NOW);

    await registry.restoreTaskToken(REGISTRY_TABLE, identity, 'token-1');

    expect((await registryItem(identity))?.task_token).toBe('token-2');
  });

  it('creates no item when putting back a token for an identity the stack does not manage', async () => {
    await registry.restoreTaskToken(REGISTRY_TABLE, identity, 'token-a');

    expect(await registryItem(identity)).toBeUndefined();
  });

  it('lists as waiting only the runs that hold a token, for as long as they hold it', async () => {
    const inLine = `line-${identity}`;
    await registry.claimIdentity(REGISTRY_TABLE, inLine, 'DOMAIN', run('run-line'), NOW);
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW);
    const waiting = async () => {
      const found: string[] = [];
      for await (const item of registry.waitingRuns(REGISTRY_TABLE)) {
        if (item.identity === identity || item.identity === inLine) {
          found.push(`${item.identity} ${item.task_token}`);
        }
      }
      return found;
    };

    expect(await waiting()).toEqual([`${identity} token-a`]);
    const token = await registry.takeTaskToken(REGISTRY_TABLE, identity);
    expect(await waiting()).toEqual([]);
    await registry.restoreTaskToken(REGISTRY_TABLE, identity, token ?? '');
    expect(await waiting()).toEqual([`${identity} token-a`]);
    await endRun('run-a');
    expect(await waiting()).toEqual([]);
  });
});

describe('the drift watch in the registry', () => {
  const dueNow = async (status: 'VERIFIED' | 'PENDING', at: Date) => {
    const found: string[] = [];
    for await (const item of registry.dueForProbe(REGISTRY_TABLE, status, at)) {
      found.push(item.identity);
    }
    return found.includes(identity);
  };

  it("puts an identity in the watch when its run ends, due from the run's claim", async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    expect(await dueNow('VERIFIED', NOW)).toBe(false);

    await endRun('run-a');

    expect(await dueNow('VERIFIED', new Date(NOW.getTime() - 1))).toBe(false);
    expect(await dueNow('VERIFIED', NOW)).toBe(true);
  });

  it('moves the next look, or takes the identity out of the watch, only while no run holds it', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await endRun('run-a');
    const later = new Date(NOW.getTime() + 3_600_000);

    expect(
      await registry.scheduleProbe(REGISTRY_TABLE, identity, 'VERIFIED', later.toISOString()),
    ).toBe(true);
    expect(await dueNow('VERIFIED', NOW)).toBe(false);
    expect(await dueNow('VERIFIED', later)).toBe(true);
    expect(await registry.scheduleProbe(REGISTRY_TABLE, identity, 'FAILED', null)).toBe(false);
    expect(await registry.scheduleProbe(REGISTRY_TABLE, identity, 'VERIFIED', null)).toBe(true);
    expect(await dueNow('VERIFIED', later)).toBe(false);

    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-b'), later);
    expect(
      await registry.scheduleProbe(REGISTRY_TABLE, identity, 'PENDING', later.toISOString()),
    ).toBe(false);
  });

  it('reads the items of many identities, a hundred a request, leaving out the unknown', async () => {
    const names = Array.from({ length: 130 }, (_, i) => `batch${i}-${identity}`);
    for (const name of names.slice(0, 120)) {
      await registry.claimIdentity(REGISTRY_TABLE, name, 'DOMAIN', run(`run-${name}`), NOW);
    }

    const items = await registry.identityItems(REGISTRY_TABLE, names);

    expect(items.map((item) => item.identity).sort()).toEqual(names.slice(0, 120).sort());
  });
});

describe('recordCheck', () => {
  const CHECKED_AT = '2026-12-01T11:00:00.000Z';
  const records = [
    {
      type: 'CNAME',
      name: 'tokena._domainkey.example.com',
      value: 'tokena.dkim.amazonses.com',
      ttl: 1800,
    },
  ];
  const published = { provider: 'route53', hosted_zone_id: 'Z1', records };
  const probe = [
    {
      name: 'tokena._domainkey.example.com',
      type: 'CNAME',
      status: 'MISSING',
      expected: 'tokena.dkim.amazonses.com',
      found: null,
      detail: 'the name does not exist (NXDOMAIN)',
    },
  ];
  const check = { dkim_status: 'PENDING', records, published, probe, checked_at: CHECKED_AT };

  it('keeps what the holding run found: DKIM status, records, where they went, the probe, when', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);

    expect(await registry.recordCheck(REGISTRY_TABLE, identity, 'run-a', check)).toBe(true);

    const item = await registryItem(identity);
    expect(item).toMatchObject({
      dkim_status: 'PENDING',
      checked_at: CHECKED_AT,
      updated_at: CHECKED_AT,
      status: 'PENDING',
      active_run_id: 'run-a',
    });
    expect(JSON.parse(item?.records_json ?? 'null')).toEqual(records);
    expect(JSON.parse(item?.published_json ?? 'null')).toEqual(published);
    expect(JSON.parse(item?.probe_json ?? 'null')).toEqual(probe);
  });

  it('returns false and changes nothing when another run holds the identity', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    const before = await registryItem(identity);

    expect(await registry.recordCheck(REGISTRY_TABLE, identity, 'run-b', check)).toBe(false);

    expect(await registryItem(identity)).toEqual(before);
  });

  it('returns false for a run that has ended, so a late look cannot overwrite the final record', async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await endRun('run-a');

    expect(await registry.recordCheck(REGISTRY_TABLE, identity, 'run-a', check)).toBe(false);
    expect((await registryItem(identity))?.checked_at).toBeUndefined();
  });

  it('returns false and creates no item for an identity the stack does not manage', async () => {
    expect(await registry.recordCheck(REGISTRY_TABLE, identity, 'run-a', check)).toBe(false);
    expect(await registryItem(identity)).toBeUndefined();
  });
});

describe('recordProbe', () => {
  const probe = [{ name: 'tokena._domainkey.example.com', type: 'CNAME', status: 'OK' }];

  it("notes a person's look at DNS without touching the run, its status or its last change", async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    await registry.storeTaskToken(REGISTRY_TABLE, identity, 'run-a', 'token-a', NOW);

    await registry.recordProbe(REGISTRY_TABLE, identity, probe, '2026-12-01T12:00:00.000Z');

    const item = await registryItem(identity);
    expect(item).toMatchObject({
      checked_at: '2026-12-01T12:00:00.000Z',
      updated_at: NOW.toISOString(),
      status: 'PENDING',
      active_run_id: 'run-a',
      task_token: 'token-a',
    });
    expect(JSON.parse(item?.probe_json ?? 'null')).toEqual(probe);
  });

  it('refuses, creating no item, for an identity the stack does not manage', async () => {
    await expect(
      registry.recordProbe(REGISTRY_TABLE, identity, probe, NOW.toISOString()),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(await registryItem(identity)).toBeUndefined();
  });
});

describe('recordSesStatus', () => {
  it("notes SES's status as the sweeper read it", async () => {
    await registry.claimIdentity(REGISTRY_TABLE, identity, 'DOMAIN', run('run-a'), NOW);
    const later = new Date(NOW.getTime() + 60_000);

    await registry.recordSesStatus(REGISTRY_TABLE, identity, 'SUCCESS', later);

    expect(await registryItem(identity)).toMatchObject({
      ses_status: 'SUCCESS',
      updated_at: later.toISOString(),
      status: 'PENDING',
    });
  });

  it('refuses, creating no item, for an identity the stack does not manage', async () => {
    await expect(
      registry.recordSesStatus(REGISTRY_TABLE, identity, 'SUCCESS', NOW),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(await registryItem(identity)).toBeUndefined();
  });
});

describe('listIdentities', () => {
  it('pages through one status, newest change first, with a token per page', async () => {
    const prefix = `list-${identityCounter}`;
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}.${prefix}.example.org`);
    for (const [i, name] of names.entries()) {
      identity = name;
      const at = new Date(NOW.getTime() + i * 1000);
      await registry.claimIdentity(REGISTRY_TABLE, name, 'DOMAIN', run(`run-${name}`), at);
      await endRun(`run-${name}`, at);
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await registry.listIdentities(REGISTRY_TABLE, {
        status: 'VERIFIED',
        limit: 2,
        nextToken,
      });
      seen.push(...page.items.map((item) => item.identity).filter((name) => names.includes(name)));
      nextToken = page.next_token ?? undefined;
      pages += 1;
    } while (nextToken !== undefined && pages < 50);

    expect(seen).toEqual([...names].reverse());
  });

  it('lists every identity by name without a filter', async () => {
    const page = await registry.listIdentities(REGISTRY_TABLE, { limit: 1000 });
    const listed = page.items.map((item) => item.identity);

    expect(listed.length).toBeGreaterThan(3);
    expect(listed).toEqual([...listed].sort());
  });

  it.each([
    ['the listing by name, used under a status', undefined, 'VERIFIED'],
    ['one status, used under another', 'VERIFIED', 'FAILED'],
    ['one status, used by name', 'VERIFIED', undefined],
  ] as const)('rejects a next_token of %s', async (_what, issuedFor, usedFor) => {
    for (const name of ['a', 'b'].map((n) => `${n}.token-${identityCounter}.example.org`)) {
      identity = name;
      await registry.claimIdentity(REGISTRY_TABLE, name, 'DOMAIN', run(`run-${name}`), NOW);
      await endRun(`run-${name}`);
    }
    const page = await registry.listIdentities(REGISTRY_TABLE, { status: issuedFor, limit: 1 });
    expect(page.next_token).not.toBeNull();

    await expect(
      registry.listIdentities(REGISTRY_TABLE, {
        status: usedFor,
        limit: 1,
        nextToken: page.next_token ?? '',
      }),
    ).rejects.toBeInstanceOf(InvalidPageTokenError);
  });

  it.each([
    ['not base64 JSON', 'not-a-token!'],
    ['JSON of the wrong shape', Buffer.from('{"TableName":"x"}').toString('base64url')],
  ])('rejects a next_token that is %s', async (_what, token) => {
    await expect(
      registry.listIdentities(REGISTRY_TABLE, { limit: 10, nextToken: token }),
    ).rejects.toBeInstanceOf(InvalidPageTokenError);
  });
});
