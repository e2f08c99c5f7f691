import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '#shared/aws/clients/sfn.js';
import { deleteKeySecretQuietly, storeKeySecret } from '#shared/dkim/key-secret.js';
import { clock } from '#shared/runtime/clock.js';
import { logger } from '#shared/runtime/observability.js';
import type { FieldIssue } from '#shared/workflow/errors.js';
import { ConflictError } from '#shared/workflow/errors.js';
import {
  canonicalJson,
  executionArnFor,
  executionNameFor,
  executionPrefixFor,
  type RunStatus,
  runStatusOf,
  sha256Hex,
} from './execution-names.js';

export interface RunStoreConfig {
  stateMachineArn: string;
  /** Name prefix of the key secrets; the IAM policies are scoped to it. */
  keySecretPrefix: string;
}

/** One request to run the workflow for an identity, as an API handler has validated it. */
export interface RunRequest<Input> {
  /** The normalised identity: every run for it shares one name prefix. */
  identity: string;
  /** Names the run, so that the same request finds the same run ({@link requestHash}). */
  requestHash: string;
  /** A supplied BYODKIM private key: it goes into a secret, never into the execution input. */
  privateKey?: string;
  /** The execution input, given the ARN of the key's secret (undefined when there is no key). */
  inputFor: (secretArn: string | undefined) => Input;
  /**
   * Checks that only a new run needs (a repeat skips them), made before anything is created.
   * Throw to refuse the request.
   */
  beforeStart?: () => Promise<void>;
}

/** The run a request started or found. */
export interface RunHandle {
  /** The execution name: the same for the same request. */
  id: string;
  created_at: string;
  /** PENDING for a new or running run; a repeat of a finished run reports how it ended. */
  status: RunStatus;
  execution_arn: string;
  /** True when an identical request had already started this run and nothing new started. */
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
 * The hash that names a run: of the normalised request with an inline private key replaced by
 * {@link keyFingerprint} (the key must not be recoverable from a name, and a secret's ARN, which
 * differs on every attempt, must not be part of it), and the Idempotency-Key when one was sent.
 */
export function requestHash<T extends WithSigning>(
  request: T,
  field: SigningField,
  idempotencyKey?: string,
): string {
  const key = request[field]?.DomainSigningPrivateKey;
  const hashable =
    key === undefined
      ? request
      : {
          ...request,
          [field]: { ...request[field], DomainSigningPrivateKey: keyFingerprint(key) },
        };
  return sha256Hex(
    canonicalJson(idempotencyKey === undefined ? hashable : { request: hashable, idempotencyKey }),
  );
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
 * Starts the workflow for a validated request, or finds the run an identical request started:
 * the execution is named after the identity and the request hash. A different request while a
 * run for the identity is RUNNING is refused (ConflictError, 409). A supplied key is stored in
 * Secrets Manager only once the run is sure to start, and deleted again when it does not.
 */
export async function startRun<Input>(
  request: RunRequest<Input>,
  config: RunStoreConfig,
): Promise<RunHandle> {
  const { identity } = request;
  const name = executionNameFor(identity, request.requestHash);
  const executionArn = executionArnFor(config.stateMachineArn, name);

  // An identical request that already started: answer with its run, create nothing.
  const existing = await describeIfExists(executionArn);
  if (existing) return handleOf(existing, true);

  await request.beforeStart?.();
  await assertNoOtherRunningRun(config.stateMachineArn, identity, name);

  const secretArn =
    request.privateKey === undefined
      ? undefined
      : await storeKeySecret(identity, request.privateKey, config.keySecretPrefix);
  try {
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
      created_at: (output.startDate ?? clock.now()).toISOString(),
      status: 'PENDING',
      execution_arn: output.executionArn ?? executionArn,
      repeated: false,
    };
  } catch (error) {
    // The secret is useless without the execution that was to read it.
    if (secretArn !== undefined) await deleteKeySecretQuietly(secretArn);
    if (error instanceof ExecutionAlreadyExists) {
      // An identical request won the race between our look-up and our start.
      const winner = await describeIfExists(executionArn);
      if (winner) return handleOf(winner, true);
    }
    throw error;
  }
}

async function describeIfExists(
  executionArn: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

/** 409 when another request for the same identity is still being worked on. */
async function assertNoOtherRunningRun(
  stateMachineArn: string,
  identity: string,
  name: string,
): Promise<void> {
  const prefix = executionPrefixFor(identity);
  let nextToken: string | undefined;
  do {
    const page = await sfnClient.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken }),
    );
    const other = page.executions?.find(
      (execution) => execution.name?.startsWith(prefix) && execution.name !== name,
    );
    if (other) {
      throw new ConflictError(
        `A different request for ${identity} is still running (id ${other.name}); wait for it to finish`,
      );
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

function handleOf(execution: DescribeExecutionCommandOutput, repeated: boolean): RunHandle {
  return {
    id: execution.name ?? '',
    created_at: (execution.startDate ?? clock.now()).toISOString(),
    status: runStatusOf(execution.status, execution.error),
    execution_arn: execution.executionArn ?? '',
    repeated,
  };
}

const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,255}$/;

/**
 * The problem with an `Idempotency-Key` header, if any. A new key makes an identical request
 * start a new run (Step Functions keeps an execution's name for 90 days, so without one a
 * repeated body returns the earlier run, finished or not).
 */
export function idempotencyKeyIssue(key: string | undefined): FieldIssue | null {
  return key === undefined || IDEMPOTENCY_KEY.test(key)
    ? null
    : { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters (header)' };
}
