import { createHash } from 'node:crypto';
import { optionalEnv } from '#shared/runtime/config.js';

const MAX_EXECUTION_NAME = 80;
const IDENTITY_HASH_LENGTH = 8;
const REQUEST_HASH_LENGTH = 16;
// name = <sanitised identity>-<identity hash>-<request hash>
const MAX_SANITISED_IDENTITY = MAX_EXECUTION_NAME - IDENTITY_HASH_LENGTH - REQUEST_HASH_LENGTH - 2;

/** SHA-256 of a string, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level, so that equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    return Object.fromEntries(
      Object.entries(inner as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      ),
    );
  });
}

/**
 * The start of every execution name for an identity: the identity, readable, then its own hash,
 * since sanitising is lossy (`a.b.com` and `a-b.com` would both read `a_b_com`) and long
 * identities are truncated, so the readable part alone could name another identity's run.
 */
export function executionPrefixFor(identity: string): string {
  const readable = identity.replace(/[^0-9A-Za-z_-]/g, '_').slice(0, MAX_SANITISED_IDENTITY);
  return `${readable}-${sha256Hex(identity).slice(0, IDENTITY_HASH_LENGTH)}-`;
}

/**
 * The deterministic execution name for a request: at most 80 characters of `[0-9A-Za-z_-]`,
 * the identity (readable, sanitised), then hashes of the identity and of the request.
 */
export function executionNameFor(identity: string, requestHash: string): string {
  return `${executionPrefixFor(identity)}${requestHash.slice(0, REQUEST_HASH_LENGTH)}`;
}

/** `arn:...:stateMachine:Name` + execution name → `arn:...:execution:Name:executionName`. */
export function executionArnFor(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[5] !== 'stateMachine') {
    throw new Error(`Not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}

const CONSOLE_HOSTS: Record<string, string> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

/**
 * Where a person watches an execution: the Step Functions console page, in the execution's own
 * partition and region. `EXECUTION_CONSOLE_URL` replaces it where runs have another console (the
 * local sandbox serves its own): a URL in which `{executionArn}` stands for the execution's ARN
 * and `{executionName}` for its name.
 */
export function consoleUrlFor(
  executionArn: string,
  template: string | undefined = optionalEnv('EXECUTION_CONSOLE_URL'),
): string {
  if (template !== undefined) {
    const name = executionArn.split(':').at(-1) ?? executionArn;
    return template
      .replaceAll('{executionArn}', encodeURIComponent(executionArn))
      .replaceAll('{executionName}', encodeURIComponent(name));
  }
  const [, partition = 'aws', , region = ''] = executionArn.split(':');
  const host = CONSOLE_HOSTS[partition] ?? CONSOLE_HOSTS.aws;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
