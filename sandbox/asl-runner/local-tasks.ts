/**
 * Binds every Task state of an ASL definition to something that runs on this machine, the way
 * Step Functions would run it in AWS, for aws-local-stepfunctions' `taskResourceLocalHandlers`
 * (keyed by state name):
 * - `lambda:invoke` calls the function's real handler in-process and answers like the Lambda
 *   integration (`{ StatusCode, Payload }`); a thrown error keeps its `name` (so Retry/Catch
 *   match it) and its Cause is Lambda's JSON `{errorType, errorMessage}`.
 * - `lambda:invoke.waitForTaskToken` invokes the handler the same way (a function error fails
 *   the Task), then waits for the Task's token to be answered.
 * - `sqs:sendMessage` sends a real SendMessage (a MessageBody object as its JSON text);
 *   `.waitForTaskToken` then waits for the token.
 * - `dynamodb:getItem|putItem|updateItem|deleteItem` make the real call.
 * - `events:putEvents` sends a real PutEvents, adds the execution and state machine ARNs to
 *   `Resources`, and fails with `EventBridge.FailedEntry` when an entry fails.
 * Integration errors are named as Step Functions names them: `SQS.QueueDoesNotExistException`,
 * `DynamoDB.ConditionalCheckFailedException`, `DynamoDB.AmazonDynamoDBException` for one the
 * SDK does not model, `<Service>.SdkClientException` when no answer came.
 *
 * Time limits are the runner's (the engine's own are pushed out of reach, see definition.ts):
 * TimeoutSeconds or TimeoutSecondsPath fail the Task with States.Timeout, HeartbeatSeconds with
 * States.HeartbeatTimeout, on the global timers (the sandbox's virtual clock, the tests' fake
 * timers). Waiting for a token is not work: only the invocation or the SendMessage before it runs
 * under `around` (the sandbox holds its clock for that, never for the wait).
 */
import {
  DeleteItemCommand,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSServiceException } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import {
  type AslState,
  type AslStates,
  functionArn,
  HEARTBEAT_PARAMETER,
  type TaskTimeLimits,
  TIMEOUT_PARAMETER,
  taskStates,
} from './definition.js';
import type { ExecutionContext } from './execution-context.js';
import { TaskClosedError, type TaskTokens } from './task-tokens.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
type TaskHandler = (input: unknown) => Promise<unknown>;

/** Anything that sends SDK commands: a client pointed at the sandbox, or a test's stand-in. */
export interface CommandSender {
  // biome-ignore lint/suspicious/noExplicitAny: SDK clients type send per command
  send(command: any): Promise<any>;
}

/** The SDK clients the direct integrations call through. */
export interface TaskClients {
  eventBridge: CommandSender;
  sqs: CommandSender;
  dynamodb: CommandSender;
}

/** What happens to a Task, for an execution's history (TaskScheduled, TaskSubmitted...). */
export interface TaskObserver {
  scheduled(stateName: string, details: TaskScheduled): void;
  started(stateName: string): void;
  /** A callback Task's request went out; now it waits for its token. */
  submitted(stateName: string, output: unknown): void;
  succeeded(stateName: string, output: unknown): void;
  failed(stateName: string, error: string, cause: string): void;
  timedOut(stateName: string, error: string, cause: string): void;
}

export interface TaskScheduled {
  resourceType: string;
  resource: string;
  parameters: unknown;
  timeoutInSeconds: number | undefined;
  heartbeatInSeconds: number | undefined;
}

export interface LocalTaskOptions {
  /** Handlers by function name: the last segment of the FunctionName ARN. */
  handlers: Record<string, LambdaHandler>;
  clients: TaskClients;
  executionArn: string;
  stateMachineArn: string;
  /** The region the Lambda context reports. */
  region: string;
  tokens: TaskTokens;
  context: ExecutionContext;
  /** Each Task's time limits (definition.ts, `forLocalEngine`). */
  limits: Map<string, TaskTimeLimits>;
  /**
   * Runs each Task's real work (an invocation, a call): the sandbox runs it under its virtual
   * clock (time stands still while it works), the tests count it. Default: the work itself.
   */
  around?: <T>(stateName: string, work: () => Promise<T>) => Promise<T>;
  observer?: TaskObserver;
}

/** An error as a Lambda function reports it to Step Functions. */
class LambdaFunctionError extends Error {
  constructor(name: string, errorMessage: string) {
    super(JSON.stringify({ errorType: name, errorMessage }));
    this.name = name;
  }
}

/** An error with the name the state machine's Retry and Catch see. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A Task's work: its output, or (a callback Task) what its request returned, to wait after. */
type Run = (
  parameters: Record<string, unknown>,
  stateName: string,
) => Promise<{ output: unknown } | { submitted: unknown }>;

/** Builds `taskResourceLocalHandlers` for a definition whose placeholders are substituted. */
export function bindLocalTasks(
  definition: AslStates,
  options: LocalTaskOptions,
): Record<string, TaskHandler> {
  const bound: Record<string, TaskHandler> = {};
  for (const [stateName, state] of taskStates(definition)) {
    const run = taskRunner(stateName, state, options);
    const limits = options.limits.get(stateName) ?? {};
    bound[stateName] = (input) => runTask(stateName, state, limits, run, input, options);
  }
  return bound;
}

function resourceOf(arn: string | undefined): { resourceType: string; resource: string } {
  const [resourceType = 'unknown', resource = 'unknown'] = (arn ?? '')
    .replace(/^arn:aws:states:::/, '')
    .split(':');
  return { resourceType, resource };
}

/** One attempt of a Task: its work, then (for a callback) its token, within its time limits. */
async function runTask(
  stateName: string,
  state: AslState,
  limits: TaskTimeLimits,
  run: Run,
  input: unknown,
  options: LocalTaskOptions,
): Promise<unknown> {
  const callback = state.Resource?.endsWith('.waitForTaskToken') === true;
  // Taken at once: the engine evaluated this attempt's Parameters (and its token) just now.
  const token = callback ? options.context.takeToken(stateName) : undefined;
  const observer = options.observer;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopHeartbeat: (() => void) | undefined;
  try {
    const { parameters, timeoutSeconds, heartbeatSeconds } = limitsOf(input, limits);
    observer?.scheduled(stateName, {
      ...resourceOf(state.Resource),
      parameters,
      timeoutInSeconds: timeoutSeconds,
      heartbeatInSeconds: heartbeatSeconds,
    });
    observer?.started(stateName);
    const limit = new Promise<never>((_, reject) => {
      const expire = (name: string, message: string) => () => reject(namedError(name, message));
      if (timeoutSeconds !== undefined) {
        timers.add(
          setTimeout(
            expire('States.Timeout', `The Task timed out after ${timeoutSeconds} s`),
            timeoutSeconds * 1000,
          ),
        );
      }
      if (heartbeatSeconds !== undefined && token !== undefined) {
        let heartbeat: ReturnType<typeof setTimeout> | undefined;
        const arm = () => {
          if (heartbeat !== undefined) timers.delete(heartbeat);
          clearTimeout(heartbeat);
          heartbeat = setTimeout(
            expire('States.HeartbeatTimeout', `No heartbeat within ${heartbeatSeconds} s`),
            heartbeatSeconds * 1000,
          );
          timers.add(heartbeat);
        };
        arm();
        stopHeartbeat = options.tokens.onHeartbeat(token, arm);
      }
    });
    limit.catch(() => undefined);
    const work = async (): Promise<unknown> => {
      const result = await run(parameters, stateName);
      if ('output' in result) return result.output;
      observer?.submitted(stateName, result.submitted);
      const answer = await options.tokens.answer(token as string);
      if (answer.kind === 'success') return answer.output;
      throw namedError(answer.error ?? '', answer.cause ?? '');
    };
    const output = await Promise.race([work(), limit]);
    observer?.succeeded(stateName, output);
    return output;
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (err.name === 'States.Timeout' || err.name === 'States.HeartbeatTimeout') {
      observer?.timedOut(stateName, err.name, err.message);
    } else if (!(err instanceof TaskClosedError)) {
      observer?.failed(stateName, err.name, err.message);
    }
    throw err;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    stopHeartbeat?.();
    if (token !== undefined) options.tokens.close(token);
  }
}

/**
 * The Task's input without the runner's own keys, and its time limits: TimeoutSecondsPath and
 * HeartbeatSecondsPath as the engine evaluated them in Parameters, or against the input itself
 * when the state has no Parameters.
 */
function limitsOf(
  input: unknown,
  limits: TaskTimeLimits,
): { parameters: Record<string, unknown>; timeoutSeconds?: number; heartbeatSeconds?: number } {
  const parameters =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? { ...(input as Record<string, unknown>) }
      : (input as Record<string, unknown>);
  const read = (key: string, path: string | undefined, fixed: number | undefined) => {
    if (path === undefined) return fixed;
    const injected = parameters !== input && key in parameters;
    const value = injected ? parameters[key] : referencePath(input, path);
    if (injected) delete parameters[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw namedError(
        'States.Runtime',
        `The value of ${path} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const timeoutSeconds = read(TIMEOUT_PARAMETER, limits.timeoutSecondsPath, limits.timeoutSeconds);
  const heartbeatSeconds = read(
    HEARTBEAT_PARAMETER,
    limits.heartbeatSecondsPath,
    limits.heartbeatSeconds,
  );
  return {
    parameters,
    ...(timeoutSeconds !== undefined && { timeoutSeconds }),
    ...(heartbeatSeconds !== undefined && { heartbeatSeconds }),
  };
}

/** A reference path (`$.a.b`, `$['a']`, `$.a[0]`) read from `value`. */
function referencePath(value: unknown, path: string): unknown {
  const steps = [...path.replace(/^\$/, '').matchAll(/\.([^.[\]]+)|\['([^']+)'\]|\[(\d+)\]/g)];
  let node = value;
  for (const [, name, quoted, index] of steps) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[(name ?? quoted ?? index) as string];
  }
  return node;
}

function taskRunner(stateName: string, state: AslState, options: LocalTaskOptions): Run {
  const around = options.around ?? ((_stateName, work) => work());
  switch (state.Resource) {
    case 'arn:aws:states:::lambda:invoke':
    case 'arn:aws:states:::lambda:invoke.waitForTaskToken': {
      const arn = String(state.Parameters?.FunctionName ?? '');
      const functionName = arn.split(':').at(-1) ?? '';
      const handler = options.handlers[functionName];
      if (!handler) {
        throw new Error(`Task ${stateName} invokes "${arn}", which has no local handler`);
      }
      const callback = state.Resource.endsWith('.waitForTaskToken');
      return async (parameters, name) => {
        const invoked = await around(name, () =>
          invokeLambda(functionName, handler, parameters.Payload, options.region),
        );
        return callback ? { submitted: invoked } : { output: invoked };
      };
    }
    case 'arn:aws:states:::sqs:sendMessage':
    case 'arn:aws:states:::sqs:sendMessage.waitForTaskToken': {
      const callback = state.Resource.endsWith('.waitForTaskToken');
      return async (parameters, name) => {
        const sent = await around(name, () => sendMessage(parameters, options.clients.sqs));
        return callback ? { submitted: sent } : { output: sent };
      };
    }
    case 'arn:aws:states:::dynamodb:getItem':
    case 'arn:aws:states:::dynamodb:putItem':
    case 'arn:aws:states:::dynamodb:updateItem':
    case 'arn:aws:states:::dynamodb:deleteItem': {
      const operation = state.Resource.slice(state.Resource.lastIndexOf(':') + 1);
      return async (parameters, name) => ({
        output: await around(name, () =>
          dynamodbCall(operation, parameters, options.clients.dynamodb),
        ),
      });
    }
    case 'arn:aws:states:::events:putEvents':
      return async (parameters, name) => ({
        output: await around(name, () =>
          putEvents(parameters as { Entries: Record<string, unknown>[] }, options),
        ),
      });
    default:
      throw new Error(
        `Task ${stateName} uses ${state.Resource}, which the local engine cannot run`,
      );
  }
}

let invocationCount = 0;

/**
 * The context Lambda passes a handler; Powertools reads it for its log keys. Local runs model no
 * Lambda time-out, so it has no remaining time to report: middy then sets no timer of its own
 * (it checks for `getRemainingTimeInMillis`), which on a virtual clock would otherwise invent a
 * time-out that depends on how long the work slept, not on the function's configuration.
 */
export function lambdaContext(functionName: string, awsRequestId: string, region: string): Context {
  const context: Omit<Context, 'getRemainingTimeInMillis'> = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(functionName, { region }),
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  return context as Context;
}

async function invokeLambda(
  functionName: string,
  handler: LambdaHandler,
  payload: unknown,
  region: string,
) {
  invocationCount += 1;
  const context = lambdaContext(functionName, `local-${invocationCount}`, region);
  try {
    // A structured clone stands in for the JSON round trip Lambda makes of every payload.
    const result = await handler(structuredClone(payload), context);
    return {
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
      Payload: JSON.parse(JSON.stringify(result ?? null)),
    };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    throw new LambdaFunctionError(err.name, err.message);
  }
}

/** The SDK's output as Step Functions passes it on: without the SDK's own metadata. */
function withoutMetadata(output: Record<string, unknown>): Record<string, unknown> {
  const { $metadata: _metadata, ...rest } = output;
  return rest;
}

type ServiceExceptionClass = abstract new (...args: never[]) => Error;

/**
 * An integration's error as Step Functions names it: `<Service>.<Exception>` for an error the
 * service models, `<Service>.Amazon<Service>Exception` for one it does not, and
 * `<Service>.SdkClientException` when the call got no answer.
 */
function integrationError(
  service: 'SQS' | 'DynamoDB' | 'EventBridge',
  label: string,
  base: ServiceExceptionClass,
  error: unknown,
): Error {
  const err = error instanceof Error ? error : new Error(String(error));
  const answered = Object.prototype.isPrototypeOf.call(base.prototype, err);
  if (!answered) return namedError(`${service}.SdkClientException`, err.message);
  const metadata = (err as { $metadata?: { httpStatusCode?: number; requestId?: string } })
    .$metadata;
  const modeled = Object.getPrototypeOf(err) !== base.prototype;
  const exception = modeled
    ? `${err.name}${err.name.endsWith('Exception') ? '' : 'Exception'}`
    : `Amazon${service}Exception`;
  return namedError(
    `${service}.${exception}`,
    `${err.message} (Service: ${label}; Status Code: ${metadata?.httpStatusCode ?? 'unknown'}; Error Code: ${err.name}; Request ID: ${metadata?.requestId ?? 'unknown'}; Proxy: null)`,
  );
}

async function sendMessage(parameters: Record<string, unknown>, sqs: CommandSender) {
  const { MessageBody: body, ...rest } = parameters;
  try {
    const output = await sqs.send(
      new SendMessageCommand({
        ...(rest as Omit<ConstructorParameters<typeof SendMessageCommand>[0], 'MessageBody'>),
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
    return withoutMetadata(output);
  } catch (error) {
    throw integrationError('SQS', 'AmazonSQS', SQSServiceException, error);
  }
}

const DYNAMODB_COMMANDS: Record<string, (input: never) => unknown> = {
  getItem: (input) => new GetItemCommand(input),
  putItem: (input) => new PutItemCommand(input),
  updateItem: (input) => new UpdateItemCommand(input),
  deleteItem: (input) => new DeleteItemCommand(input),
};

async function dynamodbCall(
  operation: string,
  parameters: Record<string, unknown>,
  dynamodb: CommandSender,
) {
  const command = DYNAMODB_COMMANDS[operation] as (input: never) => unknown;
  try {
    return withoutMetadata(await dynamodb.send(command(parameters as never)));
  } catch (error) {
    throw integrationError('DynamoDB', 'AmazonDynamoDBv2', DynamoDBServiceException, error);
  }
}

async function putEvents(input: { Entries: Record<string, unknown>[] }, options: LocalTaskOptions) {
  const entries = input.Entries.map((entry) => ({
    ...entry,
    Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail),
    Resources: [
      ...((entry.Resources as string[] | undefined) ?? []),
      options.executionArn,
      options.stateMachineArn,
    ],
  }));
  let output: Record<string, unknown> & {
    FailedEntryCount?: number;
    Entries?: unknown[];
  };
  try {
    output = await options.clients.eventBridge.send(new PutEventsCommand({ Entries: entries }));
  } catch (error) {
    if (error instanceof EventBridgeServiceException) {
      throw namedError(`EventBridge.${error.name}`, error.message);
    }
    throw integrationError('EventBridge', 'AmazonEventBridge', EventBridgeServiceException, error);
  }
  if ((output.FailedEntryCount ?? 0) > 0) {
    throw namedError('EventBridge.FailedEntry', JSON.stringify(output.Entries));
  }
  return { Entries: output.Entries, FailedEntryCount: output.FailedEntryCount ?? 0 };
}
