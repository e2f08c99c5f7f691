/**
 * Checks of the state machine definition that asl-validator does not make: retry policies
 * (JitterStrategy, BackoffRate, MaxDelaySeconds), integration ARNs, and that the error names the
 * ASL matches are the ones functions/shared/workflow/errors.ts throws, with every retryable one retried.
 */
import { createRequire } from 'node:module';
import { ERROR_CLASSES, RETRYABLE_ERROR_NAMES } from '#shared/workflow/errors.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

interface Retrier {
  ErrorEquals: string[];
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
  IntervalSeconds?: number;
  MaxAttempts?: number;
}
interface State {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  States?: Record<string, State>;
}
export interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

const INTEGRATIONS = new Set([
  'arn:aws:states:::lambda:invoke',
  'arn:aws:states:::lambda:invoke.waitForTaskToken',
  'arn:aws:states:::events:putEvents',
  'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
  'arn:aws:states:::dynamodb:updateItem',
  'arn:aws:states:::dynamodb:deleteItem',
]);
const PLACEHOLDER = /^\$\{[A-Z][A-Za-z0-9]*\}$/;
// Names Step Functions and its integrations raise, which our code never throws.
const SERVICE_ERROR = /^(States|Lambda|EventBridge|SQS|DynamoDB)\.[A-Za-z]+$/;
// Lambda's own name for a function that ran past its Timeout (the runtime's errorType).
const LAMBDA_RUNTIME_ERRORS = new Set(['Sandbox.Timedout']);

/** Every problem found, as one line each; empty when the definition is sound. */
export function aslProblems(definition: Definition): string[] {
  const problems: string[] = [];
  const result = aslValidator(definition, { checkPaths: true, checkArn: true });
  if (!result.isValid) problems.push(`asl-validator: ${result.errorsText('; ')}`);

  const ourNames = new Set(Object.keys(ERROR_CLASSES));
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (
      !state.Resource ||
      !(INTEGRATIONS.has(state.Resource) || PLACEHOLDER.test(state.Resource))
    ) {
      problems.push(`${name}: unknown Resource ${state.Resource}`);
    }
    if (!state.Retry?.length) problems.push(`${name}: a Task without Retry`);
    // Without one, Step Functions waits up to a year for a lost task (and the local engine
    // applies a default of its own): every Task says how long its work may take.
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      problems.push(`${name}: a Task without TimeoutSeconds`);
    }
    for (const retrier of state.Retry ?? []) {
      const where = `${name} Retry [${retrier.ErrorEquals.join(', ')}]`;
      if (retrier.JitterStrategy !== 'FULL') problems.push(`${where}: JitterStrategy must be FULL`);
      if ((retrier.BackoffRate ?? 2) < 1) problems.push(`${where}: BackoffRate below 1`);
      if (retrier.MaxDelaySeconds === undefined) problems.push(`${where}: no MaxDelaySeconds`);
      if (retrier.ErrorEquals.includes('States.ALL')) {
        problems.push(`${where}: retries every error, terminal ones included`);
      }
    }
    const matched = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals);
    for (const errorName of matched) {
      if (
        errorName !== 'States.ALL' &&
        !ourNames.has(errorName) &&
        !SERVICE_ERROR.test(errorName) &&
        !LAMBDA_RUNTIME_ERRORS.has(errorName)
      ) {
        problems.push(`${name}: matches "${errorName}", which no code throws`);
      }
      if (ourNames.has(errorName) && !RETRYABLE_ERROR_NAMES.includes(errorName as never)) {
        if (state.Retry?.some((r) => r.ErrorEquals.includes(errorName))) {
          problems.push(`${name}: retries ${errorName}, a terminal error`);
        }
      }
    }
    // A step our code runs, invoked or queued: its retryable errors are retried.
    if (
      state.Resource === 'arn:aws:states:::lambda:invoke' ||
      state.Resource === 'arn:aws:states:::sqs:sendMessage.waitForTaskToken'
    ) {
      const retried = new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals));
      for (const retryable of ['ThrottlingError', 'ServiceUnavailableError']) {
        if (name !== 'DescribeFailure' && !retried.has(retryable)) {
          problems.push(`${name}: does not retry ${retryable}`);
        }
      }
    }
  }
  return problems;
}
