import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunRequest } from '#shared/runs/start-run.js';
import { useClock } from '#shared/runtime/clock.js';
import { ConflictError } from '#shared/workflow/errors.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  pendingRun,
  putRegistryItem,
  REGISTRY_TABLE,
  registryItem,
  startRegistryTable,
} from '#test/support/registry-table.js';
import { sdkError } from '#test/unit/api/support.js';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
const CONFIG = { stateMachineArn: STATE_MACHINE_ARN, registryTable: REGISTRY_TABLE };
const IDENTITY = 'mail.example.com';
const NOW = new Date('2026-12-01T10:00:00.000Z');
const STARTED_AT = new Date('2026-12-01T10:00:01.000Z');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:keys/mail-AbCdEf';

const executionArn = (name: string) =>
  `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`;

let server: Awaited<ReturnType<typeof startRegistryTable>>;
let runs: typeof import('#shared/runs/start-run.js');

beforeAll(async () => {
  server = await startRegistryTable();
  runs = await import('#shared/runs/start-run.js');
});
afterAll(async () => {
  await server.close();
});

/** A validated request for IDENTITY; `fingerprint` stands for what the request asks. */
function runRequest(overrides: Partial<RunRequest<unknown>> = {}): RunRequest<unknown> {
  return {
    identity: IDENTITY,
    identityType: 'DOMAIN',
    operation: 'CreateIdentity',
    fingerprint: 'request-a',
    inputFor: (secretArn) => ({ EmailIdentity: IDENTITY, secretArn }),
    ...overrides,
  };
}

/** A key hand-off that records what it was asked to do. */
function keyHandOff() {
  return {
    store: vi.fn(async () => SECRET_ARN),
    discard: vi.fn(async (_arn: string) => undefined),
  };
}

describe('startRun', () => {
  const sfn = mockClient(SFNClient);

  beforeEach(async () => {
    sfn.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArn(input.name),
      startDate: STARTED_AT,
    }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  });
  afterEach(() => {
    useClock();
  });

  const startedNames = () =>
    sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);

  it('claims a new identity for the run and starts its execution under the run id', async () => {
    const run = await runs.startRun(runRequest(), CONFIG);

    expect(run).toEqual({
      id: runs.runIdFor(IDENTITY, 'request-a'),
      // The registry's time of the claim, not StartExecution's startDate: a repeat and GET say it too.
      created_at: NOW.toISOString(),
      status: 'PENDING',
      execution_arn: executionArn(run.id),
      repeated: false,
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: run.id,
      input: JSON.stringify({ EmailIdentity: IDENTITY }),
    });
    expect(await registryItem(IDENTITY)).toMatchObject({
      identity: IDENTITY,
      identity_type: 'DOMAIN',
      status: 'PENDING',
      active_run_id: run.id,
      latest_run: {
        id: run.id,
        execution_arn: executionArn(run.id),
        operation: 'CreateIdentity',
        request_hash: 'request-a',
        started_at: NOW.toISOString(),
        status: 'PENDING',
      },
    });
  });

  it('answers the same request with the same run while it goes, and starts nothing new', async () => {
    const first = await runs.startRun(runRequest(), CONFIG);

    const again = await runs.startRun(runRequest(), CONFIG);

    expect(again).toEqual({ ...first, repeated: true });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('answers the same request under a new idempotency key with the run that holds the identity', async () => {
    const first = await runs.startRun(runRequest(), CONFIG);

    const again = await runs.startRun(runRequest({ idempotencyKey: 'retry-1' }), CONFIG);

    expect(again).toMatchObject({ id: first.id, repeated: true, status: 'PENDING' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('refuses a different request while a run holds the identity, naming the run, before any check or key', async () => {
    const first = await runs.startRun(runRequest(), CONFIG);
    const beforeStart = vi.fn(async () => undefined);
    const key = keyHandOff();

    const refused = runs.startRun(
      runRequest({ fingerprint: 'request-b', beforeStart, keyHandOff: key }),
      CONFIG,
    );

    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow(`(run ${first.id})`);
    expect(beforeStart).not.toHaveBeenCalled();
    expect(key.store).not.toHaveBeenCalled();
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect((await registryItem(IDENTITY))?.active_run_id).toBe(first.id);
  });

  it.each([
    ['the same key', undefined],
    ['a new idempotency key', 'retry-1'],
  ])(
    'answers the same request after it VERIFIED the identity with that run, under %s',
    async (_what, idempotencyKey) => {
      const first = await runs.startRun(runRequest(), CONFIG);
      await endRunInRegistry(IDENTITY, first.id, 'VERIFIED', NOW);

      const again = await runs.startRun(runRequest({ idempotencyKey }), CONFIG);

      expect(again).toMatchObject({ id: first.id, status: 'VERIFIED', repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    },
  );

  it.each(['FAILED', 'TIMED_OUT'] as const)(
    'answers the same request after a %s run with that run, and starts nothing',
    async (status) => {
      const first = await runs.startRun(runRequest(), CONFIG);
      await endRunInRegistry(IDENTITY, first.id, status, NOW);

      const again = await runs.startRun(runRequest(), CONFIG);

      expect(again).toMatchObject({ id: first.id, status, repeated: true });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    },
  );

  it.each(['FAILED', 'TIMED_OUT'] as const)(
    'starts a new run for the same request after a %s run only under a new idempotency key',
    async (status) => {
      const first = await runs.startRun(runRequest(), CONFIG);
      await endRunInRegistry(IDENTITY, first.id, status, NOW);

      const retry = await runs.startRun(runRequest({ idempotencyKey: 'retry-1' }), CONFIG);

      expect(retry).toMatchObject({ status: 'PENDING', repeated: false });
      expect(retry.id).not.toBe(first.id);
      expect(startedNames()).toEqual([first.id, retry.id]);
      expect(await registryItem(IDENTITY)).toMatchObject({
        status: 'PENDING',
        active_run_id: retry.id,
        latest_run: { id: retry.id, status: 'PENDING' },
      });
    },
  );

  it('starts a different request once the run before it has ended, keeping the identity created_at', async () => {
    const first = await runs.startRun(runRequest(), CONFIG);
    await endRunInRegistry(IDENTITY, first.id, 'FAILED', NOW);
    const later = new Date(NOW.getTime() + 3600_000);
    useClock({ now: () => later });

    const second = await runs.startRun(runRequest({ fingerprint: 'request-b' }), CONFIG);

    expect(second.repeated).toBe(false);
    expect(await registryItem(IDENTITY)).toMatchObject({
      created_at: NOW.toISOString(),
      updated_at: later.toISOString(),
      active_run_id: second.id,
    });
  });

  describe('a claim whose execution never started', () => {
    // What a start that crashed between its claim and its StartExecution leaves behind.
    let runId: string;
    beforeEach(async () => {
      runId = runs.runIdFor(IDENTITY, 'request-a');
      await putRegistryItem({
        identity: IDENTITY,
        kind: 'IDENTITY',
        identity_type: 'DOMAIN',
        status: 'PENDING',
        dkim_status: null,
        created_at: NOW.toISOString(),
        updated_at: NOW.toISOString(),
        active_run_id: runId,
        latest_run: pendingRun(runId, NOW, 'request-a'),
      });
      sfn
        .on(DescribeExecutionCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'Execution does not exist', $metadata: {} }));
    });

    it('is started by the same request, under the run id it claimed', async () => {
      const run = await runs.startRun(runRequest(), CONFIG);

      expect(run).toMatchObject({ id: runId, repeated: false });
      expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
        executionArn: executionArn(runId),
      });
      expect(startedNames()).toEqual([runId]);
      expect((await registryItem(IDENTITY))?.active_run_id).toBe(runId);
    });

    it('is started under the claimed run id by the same request sent with a new idempotency key', async () => {
      const run = await runs.startRun(runRequest({ idempotencyKey: 'retry-1' }), CONFIG);

      // The run that holds the identity is the one to start: any other name would meet the
      // claim in its ClaimIdentity step and fail CONFLICT.
      expect(run).toMatchObject({ id: runId, execution_arn: executionArn(runId) });
      expect(startedNames()).toEqual([runId]);
    });

    it('is still a conflict for a different request', async () => {
      await expect(
        runs.startRun(runRequest({ fingerprint: 'request-b' }), CONFIG),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });
  });

  it('passes on a throttled DescribeExecution rather than starting the run a second time', async () => {
    await runs.startRun(runRequest(), CONFIG);
    sfn.on(DescribeExecutionCommand).rejects(sdkError('ThrottlingException'));

    await expect(runs.startRun(runRequest(), CONFIG)).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  describe('a supplied key', () => {
    it('is stored only once the run is sure to start, and the execution gets its ARN', async () => {
      const key = keyHandOff();

      await runs.startRun(runRequest({ keyHandOff: key }), CONFIG);

      expect(key.store).toHaveBeenCalledTimes(1);
      expect(key.discard).not.toHaveBeenCalled();
      expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
        input: JSON.stringify({ EmailIdentity: IDENTITY, secretArn: SECRET_ARN }),
      });
    });

    it('is not stored again for a repeat of a run that goes', async () => {
      await runs.startRun(runRequest(), CONFIG);
      const key = keyHandOff();

      await runs.startRun(runRequest({ keyHandOff: key }), CONFIG);

      expect(key.store).not.toHaveBeenCalled();
    });

    it('that cannot be stored starts nothing and gives the claim back', async () => {
      const failure = sdkError('ThrottlingException');
      const key = { store: vi.fn(() => Promise.reject(failure)), discard: vi.fn() };

      await expect(runs.startRun(runRequest({ keyHandOff: key }), CONFIG)).rejects.toBe(failure);

      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(key.discard).not.toHaveBeenCalled();
      expect(await registryItem(IDENTITY)).toBeUndefined();
    });

    it('is not stored when a check before the start refuses the request, and nothing is claimed', async () => {
      const key = keyHandOff();
      const refusal = new ConflictError('not today');

      await expect(
        runs.startRun(
          runRequest({ keyHandOff: key, beforeStart: () => Promise.reject(refusal) }),
          CONFIG,
        ),
      ).rejects.toBe(refusal);

      expect(key.store).not.toHaveBeenCalled();
      expect(await registryItem(IDENTITY)).toBeUndefined();
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });
  });

  describe('a StartExecution that fails', () => {
    it('gives the claim back (no item for a new identity) and discards the stored key', async () => {
      const failure = sdkError('InvalidExecutionInput');
      sfn.on(StartExecutionCommand).rejects(failure);
      const key = keyHandOff();

      await expect(runs.startRun(runRequest({ keyHandOff: key }), CONFIG)).rejects.toBe(failure);

      expect(key.discard).toHaveBeenCalledWith(SECRET_ARN);
      expect(await registryItem(IDENTITY)).toBeUndefined();
    });

    it('puts back the item as it was, so the last run stays the latest', async () => {
      const first = await runs.startRun(runRequest(), CONFIG);
      await endRunInRegistry(IDENTITY, first.id, 'FAILED', NOW);
      const before = await registryItem(IDENTITY);
      sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException'));

      await expect(
        runs.startRun(runRequest({ fingerprint: 'request-b' }), CONFIG),
      ).rejects.toMatchObject({ name: 'ThrottlingException' });

      expect(await registryItem(IDENTITY)).toEqual(before);
    });

    it('lets the same request start the run on its next try', async () => {
      sfn.on(StartExecutionCommand).rejectsOnce(sdkError('ThrottlingException'));
      await expect(runs.startRun(runRequest(), CONFIG)).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
      sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: STARTED_AT });

      const run = await runs.startRun(runRequest(), CONFIG);

      expect(run.repeated).toBe(false);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    });

    it('is the same run when an identical request started the execution first; the extra secret goes', async () => {
      sfn
        .on(StartExecutionCommand)
        .rejects(
          new ExecutionAlreadyExists({ message: 'Execution already exists', $metadata: {} }),
        );
      const key = keyHandOff();

      const run = await runs.startRun(runRequest({ keyHandOff: key }), CONFIG);

      expect(run).toMatchObject({ id: runs.runIdFor(IDENTITY, 'request-a'), repeated: true });
      expect(key.discard).toHaveBeenCalledWith(SECRET_ARN);
      expect((await registryItem(IDENTITY))?.active_run_id).toBe(run.id);
    });
  });

  describe('requests at the same instant', () => {
    it('starts exactly one of five different requests, and refuses the others naming it', async () => {
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c', 'd', 'e'].map((letter) =>
          runs.startRun(runRequest({ fingerprint: `request-${letter}` }), CONFIG),
        ),
      );

      const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(started).toHaveLength(1);
      const winner = started[0]?.id ?? '';
      expect(startedNames()).toEqual([winner]);
      expect(refused).toHaveLength(4);
      for (const error of refused) {
        expect(error).toBeInstanceOf(ConflictError);
        expect(error.message).toContain(`(run ${winner})`);
      }
    });

    it('gives three identical requests one run and one StartExecution', async () => {
      const results = await Promise.all(
        [1, 2, 3].map(() => runs.startRun(runRequest({ idempotencyKey: 'event:1' }), CONFIG)),
      );

      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(results.filter((r) => !r.repeated)).toHaveLength(1);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });
  });
});

describe('runFingerprint and withKeyInSecret', () => {
  const request = {
    EmailIdentity: IDENTITY,
    DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: 'MIIkey' },
  };

  it('tells two keys apart without carrying either', async () => {
    const fingerprint = runs.runFingerprint(request, 'DkimSigningAttributes');
    const other = runs.runFingerprint(
      {
        ...request,
        DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: 'MIIother' },
      },
      'DkimSigningAttributes',
    );

    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toBe(other);
  });

  it('swaps an inline key for its secret ARN and leaves a request without one alone', () => {
    expect(runs.withKeyInSecret(request, 'DkimSigningAttributes', SECRET_ARN)).toEqual({
      EmailIdentity: IDENTITY,
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: SECRET_ARN,
      },
    });
    const keyless = {
      EmailIdentity: IDENTITY,
      DkimSigningAttributes: { DomainSigningSelector: 's1' },
    };
    expect(runs.withKeyInSecret(keyless, 'DkimSigningAttributes', undefined)).toBe(keyless);
  });

  it('names a run after the identity, the request and its idempotency key', () => {
    const plain = runs.runIdFor(IDENTITY, 'request-a');

    expect(plain.startsWith('mail_example_com-')).toBe(true);
    expect(runs.runIdFor(IDENTITY, 'request-a')).toBe(plain);
    expect(runs.runIdFor(IDENTITY, 'request-b')).not.toBe(plain);
    expect(runs.runIdFor(IDENTITY, 'request-a', 'retry-1')).not.toBe(plain);
  });
});
