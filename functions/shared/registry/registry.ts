import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from '#shared/aws/clients/dynamodb.js';
import type { RestartSettings } from '#shared/runs/restart-request.js';
import type { IdentityType } from '#shared/workflow/types.js';
import {
  type IdentityStatus,
  type RegistryItem,
  type RegistryPage,
  type RunRecord,
  STALE_KIND,
  type StaleRemovalBatch,
  WAITING_KIND,
} from './items.js';

/**
 * The identity registry: one DynamoDB item per identity, in the table named `table`. Every write
 * that changes who holds an identity is conditional, so two runs can never both hold one, and a
 * run that lost its claim cannot overwrite its successor's record. Plain functions rather than a
 * class: a function's bundle keeps only the operations it calls, and so does its IAM policy.
 */

/** The indexes the template defines on the table. */
export const BY_STATUS_INDEX = 'ByStatus';
export const BY_IDENTITY_INDEX = 'ByIdentity';
/** Sparse: only items whose run waits with a task token (`waiting_kind`). */
export const BY_WAITING_INDEX = 'ByWaiting';
/** By status, then when the drift watch should next look (`probe_due_at`). */
export const BY_PROBE_DUE_INDEX = 'ByProbeDue';

/** What claiming an identity for a run found. */
export type ClaimOutcome =
  /** The run holds the identity now; `previous` is the item as it was (to restore on failure). */
  | { claimed: true; previous: RegistryItem | undefined }
  /** Another run holds it, or this very run already did: the item as it is. */
  | { claimed: false; item: RegistryItem };

/** A malformed `next_token`: the caller sent something no page of ours handed out. */
export class InvalidPageTokenError extends Error {
  override name = 'InvalidPageTokenError';
}

/** The item of an identity (strongly consistent), or undefined when the stack never managed it. */
export async function getIdentityItem(
  table: string,
  identity: string,
): Promise<RegistryItem | undefined> {
  const output = await dynamodbClient.send(
    new GetCommand({ TableName: table, Key: { identity }, ConsistentRead: true }),
  );
  return output.Item as RegistryItem | undefined;
}

/**
 * Claims an identity for a new run with one conditional write: it succeeds only when no run
 * holds the identity and the latest run is not this one (a request that already ran gets its
 * run back, it does not run again). The item becomes PENDING with `run` as its latest run.
 */
export async function claimIdentity(
  table: string,
  identity: string,
  identityType: IdentityType,
  run: RunRecord,
  now: Date,
  settings?: RestartSettings,
): Promise<ClaimOutcome> {
  const restart = restartUpdate(settings);
  try {
    const output = await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression: `SET kind = :kind, identity_type = :type, #status = :pending, updated_at = :now, created_at = if_not_exists(created_at, :now), dkim_status = if_not_exists(dkim_status, :null), active_run_id = :id, latest_run = :run, probe_due_at = :now${restart.set} REMOVE drift_misses, degraded_at${restart.remove}`,
        ConditionExpression:
          'attribute_not_exists(active_run_id) AND (attribute_not_exists(latest_run.id) OR latest_run.id <> :id)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':kind': 'IDENTITY',
          ':type': identityType,
          ':pending': 'PENDING',
          ':now': now.toISOString(),
          ':null': null,
          ':id': run.id,
          ':run': run,
          ...restart.values,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return { claimed: true, previous: output.Attributes as RegistryItem | undefined };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const item = await getIdentityItem(table, identity);
    // Released between our write and our read: claim again (a race, so at most once more).
    if (item === undefined) {
      return claimIdentity(table, identity, identityType, run, now, settings);
    }
    return { claimed: false, item };
  }
}

/**
 * The claim's part of the update for a run's restart settings (restart-request.ts); its REMOVE
 * part follows the claim's own (a new run starts the drift watch's count afresh).
 */
function restartUpdate(settings: RestartSettings | undefined): {
  set: string;
  remove: string;
  values: Record<string, unknown>;
} {
  if (settings === undefined) return { set: '', remove: '', values: {} };
  const sets: string[] = [];
  const values: Record<string, unknown> = {};
  if (settings.auto_restart !== null) {
    sets.push(', auto_restart = :auto');
    values[':auto'] = settings.auto_restart;
  }
  if (settings.restart_request !== null) {
    sets.push(', restart_request_json = :restart');
    values[':restart'] = JSON.stringify(settings.restart_request);
  }
  return {
    set: sets.join(''),
    remove: settings.restart_request === null ? ', restart_request_json' : '',
    values,
  };
}

/**
 * Gives a claim back when its run could not start: the item returns to what it was before
 * (or goes, if there was none), unless another run has taken it meanwhile.
 */
export async function releaseClaim(
  table: string,
  identity: string,
  runId: string,
  previous: RegistryItem | undefined,
): Promise<void> {
  const condition = {
    ConditionExpression: 'active_run_id = :id',
    ExpressionAttributeValues: { ':id': runId },
  };
  try {
    if (previous === undefined) {
      await dynamodbClient.send(
        new DeleteCommand({ TableName: table, Key: { identity }, ...condition }),
      );
    } else {
      await dynamodbClient.send(new PutCommand({ TableName: table, Item: previous, ...condition }));
    }
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * Stores the waiting run's task token, only while that run still holds the identity. Returns
 * false when it does not (the token is then of no use to anyone).
 */
export async function storeTaskToken(
  table: string,
  identity: string,
  runId: string,
  token: string,
  now: Date,
): Promise<boolean> {
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression: 'SET task_token = :token, waiting_kind = :waiting, updated_at = :now',
        ConditionExpression: 'active_run_id = :id',
        ExpressionAttributeValues: {
          ':token': token,
          ':waiting': WAITING_KIND,
          ':id': runId,
          ':now': now.toISOString(),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Takes the waiting run's task token out of the item, so that exactly one waker (the sweeper
 * or "check now") sends it: undefined when no run is waiting.
 */
export async function takeTaskToken(table: string, identity: string): Promise<string | undefined> {
  try {
    const output = await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression: 'REMOVE task_token, waiting_kind',
        ConditionExpression: 'attribute_exists(task_token)',
        ReturnValues: 'ALL_OLD',
      }),
    );
    return (output.Attributes as RegistryItem | undefined)?.task_token;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/** Puts back a task token a waker took but could not deliver, unless the run moved on. */
export async function restoreTaskToken(
  table: string,
  identity: string,
  token: string,
): Promise<void> {
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression: 'SET task_token = :token, waiting_kind = :waiting',
        ConditionExpression: 'attribute_exists(active_run_id) AND attribute_not_exists(task_token)',
        ExpressionAttributeValues: { ':token': token, ':waiting': WAITING_KIND },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** What a run's look found, as the registry keeps it for GET, "check now" and offboarding. */
export interface CheckRecord {
  dkim_status: string | null;
  /** The records SES needs, and where the stack published them (provider, zone, records). */
  records: unknown[];
  published: unknown;
  probe: unknown[];
  /** Each requested part of "ready to send" as the look found it. */
  readiness?: unknown;
  checked_at: string;
}

/**
 * Records a run's look at its identity, while that run holds it (returns false otherwise): the
 * records, where they were published, SES's DKIM status and our probe's findings.
 */
export async function recordCheck(
  table: string,
  identity: string,
  runId: string,
  check: CheckRecord,
): Promise<boolean> {
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression:
          'SET dkim_status = :dkim, records_json = :records, published_json = :published, probe_json = :probe, readiness_json = :readiness, checked_at = :at, updated_at = :at',
        ConditionExpression: 'active_run_id = :id',
        ExpressionAttributeValues: {
          ':dkim': check.dkim_status,
          ':records': JSON.stringify(check.records),
          ':published': JSON.stringify(check.published),
          ':probe': JSON.stringify(check.probe),
          ':readiness': JSON.stringify(check.readiness ?? null),
          ':at': check.checked_at,
          ':id': runId,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Notes what a person's "check now" found in DNS. */
export async function recordProbe(
  table: string,
  identity: string,
  probe: unknown[],
  checkedAt: string,
): Promise<void> {
  await dynamodbClient.send(
    new UpdateCommand({
      TableName: table,
      Key: { identity },
      UpdateExpression: 'SET probe_json = :probe, checked_at = :at',
      ConditionExpression: 'attribute_exists(#identity)',
      ExpressionAttributeNames: { '#identity': 'identity' },
      ExpressionAttributeValues: { ':probe': JSON.stringify(probe), ':at': checkedAt },
    }),
  );
}

/** Notes SES's VerificationStatus as the sweeper read it. */
export async function recordSesStatus(
  table: string,
  identity: string,
  sesStatus: string,
  now: Date,
): Promise<void> {
  await dynamodbClient.send(
    new UpdateCommand({
      TableName: table,
      Key: { identity },
      UpdateExpression: 'SET ses_status = :status, updated_at = :now',
      // IDENTITY is one of DynamoDB's reserved words.
      ConditionExpression: 'attribute_exists(#identity)',
      ExpressionAttributeNames: { '#identity': 'identity' },
      ExpressionAttributeValues: { ':status': sesStatus, ':now': now.toISOString() },
    }),
  );
}

/**
 * One page of identities, newest change first when filtered by status, by name otherwise; from
 * an index, never a scan. `nextToken` is what the previous page returned.
 */
export async function listIdentities(
  table: string,
  options: { status?: IdentityStatus; limit: number; nextToken?: string },
): Promise<RegistryPage> {
  const startKey =
    options.nextToken === undefined
      ? undefined
      : decodePageToken(options.nextToken, options.status);
  const output = await dynamodbClient.send(
    new QueryCommand(
      options.status === undefined
        ? {
            TableName: table,
            IndexName: BY_IDENTITY_INDEX,
            KeyConditionExpression: 'kind = :kind',
            ExpressionAttributeValues: { ':kind': 'IDENTITY' },
            Limit: options.limit,
            ExclusiveStartKey: startKey,
          }
        : {
            TableName: table,
            IndexName: BY_STATUS_INDEX,
            KeyConditionExpression: '#status = :status',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': options.status },
            ScanIndexForward: false,
            Limit: options.limit,
            ExclusiveStartKey: startKey,
          },
    ),
  );
  return {
    items: (output.Items ?? []) as RegistryItem[],
    next_token:
      output.LastEvaluatedKey === undefined ? null : encodePageToken(output.LastEvaluatedKey),
  };
}

/** Every identity with a status, page by page (the sweeper's reading of the fleet). */
export async function* identitiesWithStatus(
  table: string,
  status: IdentityStatus,
  pageSize = 500,
): AsyncGenerator<RegistryItem> {
  let nextToken: string | undefined;
  do {
    const page = await listIdentities(table, { status, limit: pageSize, nextToken });
    yield* page.items;
    nextToken = page.next_token ?? undefined;
  } while (nextToken !== undefined);
}

/**
 * Every identity whose run waits for SES with a task token, page by page, from the sparse
 * ByWaiting index: the identity, its task token and SES's status as the sweeper last saw it.
 * Runs still in line for SES (no token yet) are not read.
 */
export async function* waitingRuns(
  table: string,
): AsyncGenerator<Pick<RegistryItem, 'identity' | 'task_token' | 'ses_status'>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamodbClient.send(
      new QueryCommand({
        TableName: table,
        IndexName: BY_WAITING_INDEX,
        KeyConditionExpression: 'waiting_kind = :waiting',
        ExpressionAttributeValues: { ':waiting': WAITING_KIND },
        ExclusiveStartKey: startKey,
      }),
    );
    yield* (page.Items ?? []) as RegistryItem[];
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/**
 * Every identity with `status` whose `probe_due_at` is at or before `now`, page by page, from the
 * ByProbeDue index: what the drift watch has to look at in this sweep, however large the fleet.
 */
export async function* dueForProbe(
  table: string,
  status: IdentityStatus,
  now: Date,
): AsyncGenerator<RegistryItem> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamodbClient.send(
      new QueryCommand({
        TableName: table,
        IndexName: BY_PROBE_DUE_INDEX,
        KeyConditionExpression: '#status = :status AND probe_due_at <= :now',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':now': now.toISOString() },
        ExclusiveStartKey: startKey,
      }),
    );
    yield* (page.Items ?? []) as RegistryItem[];
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** Whether any identity has `status` (at most one item read, from the ByStatus index). */
export async function anyWithStatus(table: string, status: IdentityStatus): Promise<boolean> {
  const output = await dynamodbClient.send(
    new QueryCommand({
      TableName: table,
      IndexName: BY_STATUS_INDEX,
      KeyConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': status },
      Limit: 1,
    }),
  );
  return (output.Items ?? []).length > 0;
}

/** BatchGetItem's limit of keys a request. */
const BATCH_GET_KEYS = 100;

/**
 * The items of these identities (those the registry has), 100 a request, asking again for the
 * keys DynamoDB leaves unprocessed. Eventually consistent, as the sweeper's other reads are.
 */
export async function identityItems(table: string, identities: string[]): Promise<RegistryItem[]> {
  const items: RegistryItem[] = [];
  for (let i = 0; i < identities.length; i += BATCH_GET_KEYS) {
    let keys: Record<string, unknown>[] | undefined = identities
      .slice(i, i + BATCH_GET_KEYS)
      .map((identity) => ({ identity }));
    for (let attempt = 0; keys !== undefined && keys.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const output: BatchGetCommandOutput = await dynamodbClient.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }),
      );
      items.push(...((output.Responses?.[table] ?? []) as RegistryItem[]));
      keys = output.UnprocessedKeys?.[table]?.Keys;
      if (attempt >= 8 && keys !== undefined && keys.length > 0) {
        throw new Error(
          `DynamoDB left ${keys.length} key(s) unprocessed after ${attempt + 1} tries`,
        );
      }
    }
  }
  return items;
}

/**
 * When the drift watch should next look at an identity no run holds that is still `status`:
 * `dueAt`, or never (null: it leaves the ByProbeDue index until a run claims it again). False
 * when a run took it or its status changed meanwhile.
 */
export async function scheduleProbe(
  table: string,
  identity: string,
  status: IdentityStatus,
  dueAt: string | null,
): Promise<boolean> {
  const idle = idleWithStatus([status]);
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression: dueAt === null ? 'REMOVE probe_due_at' : 'SET probe_due_at = :due',
        ConditionExpression: idle.condition,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...(dueAt !== null && { ':due': dueAt }), ...idle.values },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Page tokens are the index's LastEvaluatedKey, opaque to callers (base64url JSON). */
function encodePageToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The attributes of each index's LastEvaluatedKey: the table's key and the index's. */
const BY_IDENTITY_KEYS = ['identity', 'kind'];
const BY_STATUS_KEYS = ['identity', 'status', 'updated_at'];
const NOT_A_PAGE_TOKEN =
  'is not a token a previous page of this listing returned (the same status, or none)';

/**
 * The start key in a token, checked against the listing it is used with (by name, or under
 * this status): DynamoDB refuses another index's key, or another status's, with an error that
 * would otherwise reach the caller as a 500.
 */
function decodePageToken(
  token: string,
  status: IdentityStatus | undefined,
): Record<string, unknown> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageTokenError(NOT_A_PAGE_TOKEN);
  }
  const expected = status === undefined ? BY_IDENTITY_KEYS : BY_STATUS_KEYS;
  const fields = key !== null && typeof key === 'object' && !Array.isArray(key) ? key : {};
  const entries = Object.entries(fields);
  const valid =
    entries.length === expected.length &&
    entries.every(([k, v]) => expected.includes(k) && typeof v === 'string') &&
    (status === undefined
      ? (fields as { kind?: unknown }).kind === 'IDENTITY'
      : (fields as { status?: unknown }).status === status);
  if (!valid) throw new InvalidPageTokenError(NOT_A_PAGE_TOKEN);
  return fields as Record<string, unknown>;
}

/**
 * Ends a run that offboarding stopped: the registry says how it ended (FAILED, and why) and
 * frees the identity, only while that run still holds it. Returns false when it no longer did.
 */
export async function endStoppedRun(
  table: string,
  identity: string,
  runId: string,
  reason: { code: string; message: string; retryable: boolean },
  now: Date,
): Promise<boolean> {
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression:
          'SET #status = :failed, updated_at = :now, latest_run.#status = :failed, latest_run.ended_at = :now, latest_run.reason = :reason REMOVE active_run_id, task_token, waiting_kind',
        ConditionExpression: 'active_run_id = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'FAILED',
          ':now': now.toISOString(),
          ':reason': reason,
          ':id': runId,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** A condition on an identity no run holds, whose status is one of `:watched…`. */
function idleWithStatus(statuses: IdentityStatus[]) {
  const names = statuses.map((_, i) => `:watched${i}`);
  return {
    condition: `attribute_not_exists(active_run_id) AND #status IN (${names.join(', ')})`,
    values: Object.fromEntries(statuses.map((status, i) => [`:watched${i}`, status])),
  };
}

/**
 * Notes what the drift watch found in DNS for an identity no run holds: the probe, and how many
 * probes in a row found a record gone or wrong. False when a run took the identity meanwhile.
 */
export async function recordDriftProbe(
  table: string,
  identity: string,
  probe: {
    probe: unknown[];
    checked_at: string;
    misses: number;
    ses_status: string;
    /** When the watch should look again (`probe_due_at`). */
    due_at: string;
  },
): Promise<boolean> {
  const idle = idleWithStatus(['VERIFIED', 'DEGRADED', 'FAILED', 'TIMED_OUT']);
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression:
          'SET probe_json = :probe, checked_at = :at, drift_misses = :misses, ses_status = :ses, probe_due_at = :due',
        ConditionExpression: idle.condition,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':probe': JSON.stringify(probe.probe),
          ':at': probe.checked_at,
          ':misses': probe.misses,
          ':ses': probe.ses_status,
          ':due': probe.due_at,
          ...idle.values,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Moves an identity between VERIFIED and DEGRADED, only while no run holds it and it is still
 * `from`: one conditional write, so exactly one sweep emits the event of a change. False when
 * the identity is no longer `from` or a run took it.
 */
export async function markDrift(
  table: string,
  identity: string,
  change: { from: 'VERIFIED'; to: 'DEGRADED' } | { from: 'DEGRADED'; to: 'VERIFIED' },
  now: Date,
): Promise<boolean> {
  const idle = idleWithStatus([change.from]);
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        UpdateExpression:
          change.to === 'DEGRADED'
            ? 'SET #status = :to, updated_at = :now, degraded_at = :now'
            : 'SET #status = :to, updated_at = :now, drift_misses = :zero REMOVE degraded_at',
        ConditionExpression: idle.condition,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': change.to,
          ':now': now.toISOString(),
          ...(change.to === 'VERIFIED' && { ':zero': 0 }),
          ...idle.values,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The index of the items whose stale DKIM records wait for their grace period to end. */
export const BY_STALE_SINCE_INDEX = 'ByStaleSince';

/**
 * Every item with stale-record batches whose oldest began at or before `cutoff`, page by page
 * (the sparse ByStaleSince index holds only items with batches waiting).
 */
export async function* itemsWithStaleRecordsSince(
  table: string,
  cutoff: string,
): AsyncGenerator<RegistryItem> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamodbClient.send(
      new QueryCommand({
        TableName: table,
        IndexName: BY_STALE_SINCE_INDEX,
        KeyConditionExpression: 'stale_kind = :kind AND stale_since <= :cutoff',
        ExpressionAttributeValues: { ':kind': STALE_KIND, ':cutoff': cutoff },
        ExclusiveStartKey: startKey,
      }),
    );
    yield* (page.Items ?? []) as RegistryItem[];
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/**
 * Replaces an item's stale-record batches with `remaining` (the ones not yet due or not yet
 * removed), only if nobody added one since it was read (`readCount`): a verified change that
 * appended a batch meanwhile makes this a no-op, and the next run of the remover sees both.
 * Returns false then, or when the item is gone (offboarded).
 */
export async function replaceStaleRemovals(
  table: string,
  identity: string,
  readCount: number,
  remaining: StaleRemovalBatch[],
): Promise<boolean> {
  const oldest = remaining.map((batch) => batch.since).sort()[0];
  try {
    await dynamodbClient.send(
      new UpdateCommand({
        TableName: table,
        Key: { identity },
        ...(oldest === undefined
          ? { UpdateExpression: 'REMOVE stale_removals, stale_kind, stale_since' }
          : { UpdateExpression: 'SET stale_removals = :remaining, stale_since = :oldest' }),
        ConditionExpression: 'size(stale_removals) = :count',
        ExpressionAttributeValues: {
          ':count': readCount,
          ...(oldest !== undefined && { ':remaining': remaining, ':oldest': oldest }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
