/**
 * Binds every Task state of an ASL definition to something that runs on this machine, the way
 * Step Functions would run it in AWS, for aws-local-stepfunctions' `taskResourceLocalHandlers`
 * (keyed by state name):
 * - `arn:aws:states:::lambda:invoke` calls the function's real handler in-process and answers
 *   like the Lambda integration (`{ StatusCode, Payload }`); a thrown error keeps its `name`
 *   (so Retry/Catch match it) and its Cause is Lambda's JSON `{errorType, errorMessage}`.
 * - `arn:aws:states:::events:putEvents` sends a real PutEvents through the given SDK client, adds
 *   the execution and state machine ARNs to `Resources`, and fails with `EventBridge.FailedEntry`
 *   when an entry fails, as the optimized integration does.
 * Part of the ASL runner (see definition.ts): the state machine tests bind with mocked clients,
 * the sandbox with clients pointed at its emulators.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { functionArn } from './definition.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;
type TaskHandler = (input: unknown) => Promise<unknown>;

export interface LocalTaskOptions {
  /** Handlers by function name: the last segment of the FunctionName ARN. */
  handlers: Record<string, LambdaHandler>;
  eventBridge: EventBridgeClient;
  executionArn: string;
  stateMachineArn: string;
  /** The region the Lambda context reports. */
  region: string;
  /**
   * Runs each task's work: the sandbox runs it under its virtual clock (time stands still while
   * the task works), the tests count running tasks. Default: the work itself.
   */
  around?: <T>(stateName: string, work: () => Promise<T>) => Promise<T>;
}

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  States?: Record<string, AslState>;
  Branches?: { States: Record<string, AslState> }[];
  Iterator?: { States: Record<string, AslState> };
  ItemProcessor?: { States: Record<string, AslState> };
}

/** An error as a Lambda function reports it to Step Functions. */
class LambdaFunctionError extends Error {
  constructor(name: string, errorMessage: string) {
    super(JSON.stringify({ errorType: name, errorMessage }));
    this.name = name;
  }
}

/** Every Task state in a definition, nested ones included, by name. */
export function taskStates(definition: {
  States: Record<string, AslState>;
}): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') found.set(name, state);
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.Iterator) visit(state.Iterator.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
    }
  };
  visit(definition.States);
  return found;
}

/** Builds `taskResourceLocalHandlers` for a definition whose placeholders are substituted. */
export function bindLocalTasks(
  definition: { States: Record<string, AslState> },
  options: LocalTaskOptions,
): Record<string, TaskHandler> {
  const bound: Record<string, TaskHandler> = {};
  const around = options.around ?? ((_stateName, work) => work());
  for (const [stateName, state] of taskStates(definition)) {
    const run = taskRunner(stateName, state, options);
    bound[stateName] = (input) => around(stateName, () => run(input));
  }
  return bound;
}

function taskRunner(stateName: string, state: AslState, options: LocalTaskOptions): TaskHandler {
  if (state.Resource === 'arn:aws:states:::lambda:invoke') {
    const functionArn = String(state.Parameters?.FunctionName ?? '');
    const functionName = functionArn.split(':').at(-1) ?? '';
    const handler = options.handlers[functionName];
    if (!handler) {
      throw new Error(`Task ${stateName} invokes "${functionArn}", which has no local handler`);
    }
    return (input) =>
      invokeLambda(functionName, handler, (input as { Payload?: unknown }).Payload, options.region);
  }
  if (state.Resource === 'arn:aws:states:::events:putEvents') {
    return (input) => putEvents(input as { Entries: Record<string, unknown>[] }, options);
  }
  throw new Error(`Task ${stateName} uses ${state.Resource}, which the local engine cannot run`);
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
  let output: PutEventsCommandOutput;
  try {
    output = await options.eventBridge.send(new PutEventsCommand({ Entries: entries }));
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    const failure = new Error(err.message);
    failure.name = `EventBridge.${err.name}`;
    throw failure;
  }
  if ((output.FailedEntryCount ?? 0) > 0) {
    const failure = new Error(JSON.stringify(output.Entries));
    failure.name = 'EventBridge.FailedEntry';
    throw failure;
  }
  return { Entries: output.Entries, FailedEntryCount: output.FailedEntryCount ?? 0 };
}
