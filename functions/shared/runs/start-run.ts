import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import type {
  RegistryItem,
  RunOperation,
  RunRecord,
  RunStarter,
  RunStatus,
} from '#shared/registry/items.js';
import { claimIdentity, getIdentityItem, releaseClaim } from '#shared/registry/registry.js';
import type { DkimChangeRequest, IdentityRequest } from '#shared/request/index.js';
import { clock } from '#shared/runtime/clock.js';
import { logger } from '#shared/runtime/observability.js';
import { ConflictError, type FieldIssue } from '#shared/workflow/errors.js';
import type { IdentityType } from '#shared/workflow/types.js';
import { executionArnFor, executionNameFor, sha256Hex } from './execution-names.js';
import { requestFingerprint } from './request-fingerprint.js';
import { restartSettingsFor } from './restart-request.js';

export interface RunStoreConfig {
  stateMachineArn: string;
  /** The identity registry: the lock a run takes, and the record of every run. */
  registryTable: string;
}

/**
 * A supplied BYODKIM private key on its way into a secret (only the API accepts one): stored
 * once the run is sure to start, discarded again when it does not.
 */
export interface KeyHandOff {
  /** Stores the key; resolves to the secret's ARN. */
  store(): Promise<string>;
  /** Deletes a secret no run will read; never throws. */
  discard(secretArn: string): Promise<void>;
}

/** One request to run the workflow for an identity, validated by the API or the starter. */
export interface RunRequest<Input> {
  /** The normalised identity: the registry's key. */
  identity: string;
  identityType: IdentityType;
  operation: RunOperation;
  /** What makes two requests the same ({@link runFingerprint}). */
  fingerprint: string;
  /** A caller's key for "run this same request again" (the API's Idempotency-Key, an event's id). */
  idempotencyKey?: string;
  /** A supplied BYODKIM private key: it goes into a secret, never into the execution input. */
  keyHandOff?: KeyHandOff;
  /** The execution input, given the ARN of the key's secret (undefined when there is no key). */
  inputFor: (secretArn: string | undefined) => Input;
  /**
   * Checks that only a new run needs (a repeat skips them), made before anything is created.
   * Throw to refuse the request.
   */
  beforeStart?: () => Promise<void>;
  /** A creation's request, kept (without a key) for the sweeper's automatic restart. */
  creationRequest?: IdentityRequest;
  /** Who starts the run; a request when absent. The run's events say so. */
  startedBy?: RunStarter;
}

/** The run a request started or found. */
export interface RunHandle {
  /** The execution name: the same for the same request. */
  id: string;
  created_at: string;
  /** PENDING for a new or running run; a repeat of a finished run reports how it ended. */
  status: RunStatus;
  execution_arn: string;
  /** True when this request had already started this run (or the identity is verified by it), and nothing new started. */
  repeated: boolean;
}

/** `sha256:<hex>` of a private key: stands in for the key wherever a request is hashed. */
function keyFingerprint(privateKey: string): string {
  return `sha256:${sha256Hex(privateKey)}`;
}

/** Where a request keeps its BYODKIM fields: creation or DKIM change. */
type SigningField = 'DkimSigningAttributes' | 'SigningAttributes';
type WithSigning = { [F in SigningField]?: { DomainSigningPrivateKey?: string } & object };

/**
 * What makes two requests the same request: the request as it acts (defaults written out, see
 * request-fingerprint), with an inline private key replaced by its hash, since the key must not
 * be recoverable from the registry, and a secret's ARN, new on every attempt, must not count.
 */
export function runFingerprint<T extends (IdentityRequest | DkimChangeRequest) & WithSigning>(
  request: T,
  field: SigningField,
): string {
  const key = request[field]?.DomainSigningPrivateKey;
  const hashable =
    key === undefined
      ? request
      : {
          ...request,
          [field]: { ...request[field], DomainSigningPrivateKey: keyFingerprint(key) },
        };
  return requestFingerprint(hashable);
}

/** The run's id (its execution name): the identity, then a hash of the request and its key. */
export function runIdFor(identity: string, fingerprint: string, idempotencyKey?: string): string {
  return executionNameFor(identity, sha256Hex(`${fingerprint}\n${idempotencyKey ?? ''}`));
}

/** The execution's input: the request with an inline private key swapped for its secret's ARN. */
export function withKeyInSecret<T extends WithSigning>(
  request: T,
  field: SigningField,
  secretArn: string | undefined,
): T {
  const attributes = request[field];
  if (attributes?.DomainSigningPrivateKey === undefined) return request;
  const { DomainSigningPrivateKey: _key, ...rest } = attributes;
  return { ...request, [field]: { ...rest, DomainSigningPrivateKeySecretArn: secretArn } };
}

/**
 * Starts the workflow for a validated request, or finds the run this request already has. The
 * registry decides, with one conditional write (the claim): the same request gets the same run
 * (while it goes, or once it verified the identity); a different request while a run holds the
 * identity is refused (ConflictError, 409, naming the run); otherwise a new run claims it and
 * starts. A supplied key is stored in Secrets Manager only once the run is sure to start, and
 * deleted again when it does not; a claim whose run could not start is given back.
 */
export async function startRun<Input>(
  request: RunRequest<Input>,
  config: RunStoreConfig,
): Promise<RunHandle> {
  const { identity } = request;
  const runId = runIdFor(identity, request.fingerprint, request.idempotencyKey);
  const executionArn = executionArnFor(config.stateMachineArn, runId);

  const existing = runFor(await getIdentityItem(config.registryTable, identity), runId, request);
  if (existing !== undefined && !(await isLostClaim(existing))) return existing;
  // A lost claim starts under its own name, whatever key this request came with: the
  // execution's ClaimIdentity step must find that name holding the identity.
  const name = existing?.id ?? runId;
  const arn = existing?.execution_arn ?? executionArn;

  const now = clock.now();
  // The registry's start of the run, so that this answer, a repeat's and GET's agree.
  const createdAt = existing?.created_at ?? now.toISOString();
  let previous: RegistryItem | undefined;
  if (existing === undefined) {
    await request.beforeStart?.();
    const run: RunRecord = {
      id: runId,
      execution_arn: executionArn,
      operation: request.operation,
      request_hash: request.fingerprint,
      started_at: now.toISOString(),
      status: 'PENDING',
      reason: null,
      ended_at: null,
      ...(request.startedBy === 'AUTO_RESTART' && { started_by: request.startedBy }),
    };
    const claim = await claimIdentity(
      config.registryTable,
      identity,
      request.identityType,
      run,
      now,
      restartSettingsFor(request.operation, request.creationRequest),
    );
    if (!claim.claimed) {
      // Another request won the race between our read and our write.
      const winner = runFor(claim.item, runId, request);
      if (winner !== undefined) return winner;
      throw conflictWith(identity, claim.item);
    }
    previous = claim.previous;
  }

  let secretArn: string | undefined;
  try {
    secretArn = await request.keyHandOff?.store();
    const output = await sfnClient.send(
      new StartExecutionCommand({
        stateMachineArn: config.stateMachineArn,
        name,
        input: JSON.stringify(request.inputFor(secretArn)),
      }),
    );
    logger.info('Started a run', { identity, executionArn: output.executionArn });
    return {
      id: name,
      created_at: createdAt,
      status: 'PENDING',
      execution_arn: output.executionArn ?? arn,
      repeated: false,
    };
  } catch (error) {
    // The secret is useless without the execution that was to read it.
    if (secretArn !== undefined) await request.keyHandOff?.discard(secretArn);
    // Started already, by an identical request that got here first: that is this run.
    if (error instanceof ExecutionAlreadyExists) {
      return {
        id: name,
        created_at: createdAt,
        status: 'PENDING',
        execution_arn: arn,
        repeated: true,
      };
    }
    if (existing === undefined) await releaseClaim(config.registryTable, identity, runId, previous);
    throw error;
  }
}

/**
 * The run this request already has in the registry, if any: the run holding the identity when
 * it is this one or the same request (under another key), the latest run when it is this one, or
 * the latest run when the same request verified the identity. A different request facing a
 * holder is a conflict. Undefined: a new run may claim the identity.
 */
function runFor(
  item: RegistryItem | undefined,
  runId: string,
  request: { identity: string; fingerprint: string },
): RunHandle | undefined {
  const latest = item?.latest_run;
  if (item === undefined || latest === null || latest === undefined) return undefined;
  if (item.active_run_id !== undefined) {
    if (item.active_run_id === runId || latest.request_hash === request.fingerprint) {
      return handleOf(latest, true);
    }
    throw conflictWith(request.identity, item);
  }
  if (latest.id === runId) return handleOf(latest, true);
  if (latest.request_hash === request.fingerprint && latest.status === 'VERIFIED') {
    return handleOf(latest, true);
  }
  return undefined;
}

/**
 * True for a claim whose execution never started (the claiming call failed between its write
 * and its StartExecution): the same request then starts it, under the claim it already holds.
 */
async function isLostClaim(run: RunHandle): Promise<boolean> {
  if (run.status !== 'PENDING') return false;
  try {
    await sfnClient.send(new DescribeExecutionCommand({ executionArn: run.execution_arn }));
    return false;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return true;
    throw error;
  }
}

function conflictWith(identity: string, item: RegistryItem): ConflictError {
  return new ConflictError(
    `A different request for ${identity} is being worked on (run ${item.active_run_id}); wait for it to finish, or send the same request`,
  );
}

function handleOf(run: RunRecord, repeated: boolean): RunHandle {
  return {
    id: run.id,
    created_at: run.started_at,
    status: run.status,
    execution_arn: run.execution_arn,
    repeated,
  };
}

const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,255}$/;

/**
 * The problem with an `Idempotency-Key` header, if any. A new key makes an identical request
 * start a new run after a failed or timed-out one (without one, a repeated body returns the
 * earlier run, finished or not).
 */
export function idempotencyKeyIssue(key: string | undefined): FieldIssue | null {
  return key === undefined || IDEMPOTENCY_KEY.test(key)
    ? null
    : { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters (header)' };
}
