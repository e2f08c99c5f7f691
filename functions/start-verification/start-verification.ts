import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { secretsManagerClient } from '../lib/clients/secrets-manager.js';
import { sfnClient } from '../lib/clients/sfn.js';
import { clock } from '../lib/clock.js';
import { ConflictError } from '../lib/errors.js';
import {
  canonicalJson,
  executionArnFor,
  executionNameFor,
  executionPrefixFor,
  type RunStatus,
  runStatusOf,
  sha256Hex,
} from '../lib/http/executions.js';
import { logger } from '../lib/observability.js';
import {
  type IdentityRequest,
  identityTypeOf,
  parseIdentityRequest,
} from '../lib/request/index.js';
import type { IdentityType } from '../lib/types.js';

/** Tag put on every key secret, so that operators can find (and audit) them by identity. */
export const SECRET_IDENTITY_TAG = 'ses-identity-verifier:identity';

export interface StartVerificationConfig {
  stateMachineArn: string;
  /** Name prefix of the key secrets; the IAM policies are scoped to it. */
  keySecretPrefix: string;
}

/** The `data` of a 202 response. */
export interface StartedVerification {
  /** The execution name: the same for the same request. */
  id: string;
  created_at: string;
  identity: string;
  identity_type: IdentityType;
  /** PENDING for a new or running run; a repeat of a finished run reports how it ended. */
  status: RunStatus;
  execution_arn: string;
  /** True when an identical request had already started this run and nothing new started. */
  repeated: boolean;
}

/**
 * Starts the verification workflow for an API request body: validates it, moves a supplied
 * private key into Secrets Manager, and starts (or finds) the execution named after the request.
 * Throws ValidationError (400), ConflictError (409) or an AWS SDK error.
 */
export async function startVerification(
  body: unknown,
  config: StartVerificationConfig,
): Promise<StartedVerification> {
  const request = parseIdentityRequest(body, { keyDelivery: 'inline' });
  const identity = request.EmailIdentity;
  const name = executionNameFor(identity, requestHashOf(request));
  const executionArn = executionArnFor(config.stateMachineArn, name);

  // An identical request that already started: answer with its run, create nothing.
  const existing = await describeIfExists(executionArn);
  if (existing) return started(request, existing, true);

  await assertNoOtherRunningRun(config.stateMachineArn, identity, name);

  const secretArn = await storePrivateKey(request, config.keySecretPrefix);
  try {
    const output = await sfnClient.send(
      new StartExecutionCommand({
        stateMachineArn: config.stateMachineArn,
        name,
        input: JSON.stringify(executionInputFor(request, secretArn)),
      }),
    );
    logger.info('Started verification', { identity, executionArn: output.executionArn });
    return {
      id: name,
      created_at: (output.startDate ?? clock.now()).toISOString(),
      identity,
      identity_type: identityTypeOf(identity),
      status: 'PENDING',
      execution_arn: output.executionArn ?? executionArn,
      repeated: false,
    };
  } catch (error) {
    // The secret is useless without the execution that was to read it.
    if (secretArn !== undefined) await deleteSecretQuietly(secretArn);
    if (error instanceof ExecutionAlreadyExists) {
      // An identical request won the race between our look-up and our start.
      const winner = await describeIfExists(executionArn);
      if (winner) return started(request, winner, true);
    }
    throw error;
  }
}

/**
 * The hash that names the execution: of the normalised request, with a supplied private key
 * replaced by its own hash. Not the secret's ARN, which differs on every attempt, so a repeated
 * request still finds its run; and not the key, which must not be recoverable from a name.
 */
export function requestHashOf(request: IdentityRequest): string {
  const key = request.DkimSigningAttributes?.DomainSigningPrivateKey;
  const hashable =
    key === undefined
      ? request
      : {
          ...request,
          DkimSigningAttributes: {
            ...request.DkimSigningAttributes,
            DomainSigningPrivateKey: `sha256:${sha256Hex(key)}`,
          },
        };
  return sha256Hex(canonicalJson(hashable));
}

/** The state machine input: the request, with the key (if any) swapped for its secret's ARN. */
export function executionInputFor(
  request: IdentityRequest,
  secretArn: string | undefined,
): IdentityRequest {
  if (request.DkimSigningAttributes?.DomainSigningPrivateKey === undefined) return request;
  const { DomainSigningPrivateKey: _key, ...attributes } = request.DkimSigningAttributes;
  return {
    ...request,
    DkimSigningAttributes: { ...attributes, DomainSigningPrivateKeySecretArn: secretArn },
  };
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

/**
 * Puts a supplied BYODKIM private key into its own secret and returns the secret's ARN. The name
 * is unique per attempt (a concurrent identical request must not collide with this one's secret),
 * which is why a repeat whose execution already exists deletes the secret it made.
 */
async function storePrivateKey(
  request: IdentityRequest,
  keySecretPrefix: string,
): Promise<string | undefined> {
  const key = request.DkimSigningAttributes?.DomainSigningPrivateKey;
  if (key === undefined) return undefined;
  const identity = request.EmailIdentity;
  const attempt = sha256Hex(`${identity}:${randomUUID()}`).slice(0, 12);
  const output = await secretsManagerClient.send(
    new CreateSecretCommand({
      Name: `${keySecretPrefix}${secretSafe(identity)}-${attempt}`,
      Description: `BYODKIM private key for ${identity}, read once by the verification workflow`,
      SecretString: key,
      Tags: [{ Key: SECRET_IDENTITY_TAG, Value: secretSafe(identity) }],
    }),
  );
  if (output.ARN === undefined) throw new Error('CreateSecret returned no ARN');
  return output.ARN;
}

async function deleteSecretQuietly(secretArn: string): Promise<void> {
  try {
    await secretsManagerClient.send(
      new DeleteSecretCommand({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }),
    );
  } catch (error) {
    // The caller's own error matters more; the secret is tagged and prefixed for clean-up.
    logger.warn('Could not delete an unused key secret', {
      secretArn,
      errorName: error instanceof Error ? error.name : typeof error,
    });
  }
}

/** Secrets Manager names and tag values allow letters, digits and `/_+=.@-`. */
function secretSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9/_+=.@-]/g, '_');
}

function started(
  request: IdentityRequest,
  execution: DescribeExecutionCommandOutput,
  repeated: boolean,
): StartedVerification {
  const identity = request.EmailIdentity;
  return {
    id: execution.name ?? '',
    created_at: (execution.startDate ?? clock.now()).toISOString(),
    identity,
    identity_type: identityTypeOf(identity),
    status: runStatusOf(execution.status, execution.error),
    execution_arn: execution.executionArn ?? '',
    repeated,
  };
}
