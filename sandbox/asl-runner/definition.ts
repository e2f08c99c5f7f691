/**
 * The ASL runner: how this project runs statemachine/verify-email-identity.asl.json on one
 * machine with aws-local-stepfunctions. Two users share it, so they run the same thing: the
 * sandbox (sandbox/engine/, against emulated AWS services) and the state machine tests
 * (test/state-machine/harness.ts, against mocked clients). This module loads the definition with
 * the DefinitionSubstitutions template.yaml gives it (resolved by sandbox/deploy/) and prepares
 * it for the engine; runner.ts runs it, local-tasks.ts binds its Task states.
 */
import { readFileSync } from 'node:fs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { StateMachineSpec } from '#sandbox/deploy/deployment.js';

/** The account the sandbox and the tests pretend to be. */
export const LOCAL_ACCOUNT = '000000000000';

/** The ARN a Lambda function of this project would have in the local account. */
export function functionArn(functionName: string, place: { region: string }): string {
  return `arn:aws:lambda:${place.region}:${LOCAL_ACCOUNT}:function:${functionName}`;
}

/**
 * Replaces `${Name}` inside every string of a parsed definition, as CloudFormation's
 * DefinitionSubstitutions do. The JSON is parsed first, so a value can never break its syntax;
 * a placeholder without a value is an error rather than a literal `${...}` left in a Resource.
 */
export function substitute<T>(value: T, substitutions: Record<string, string>): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
        const replacement = substitutions[name];
        if (replacement === undefined) {
          throw new Error(`The definition uses \${${name}}, which has no substitution`);
        }
        return replacement;
      });
    }
    if (Array.isArray(node)) return node.map(visit);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, visit(child)]));
    }
    return node;
  };
  return visit(value) as T;
}

/** A definition ready to run. */
export interface LoadedDefinition {
  definition: StateMachineDefinition;
  /** The Lambda functions its Tasks invoke, by name (the last part of each FunctionName). */
  functionNames: string[];
}

/**
 * Reads a state machine's ASL file and fills in its DefinitionSubstitutions. The file (76 KB) is
 * read synchronously: at the sandbox's start-up, loading it took 5 to 17 ms with an asynchronous
 * read, which waits for the event loop's turn behind everything else starting, and about 6 ms,
 * parsing included, with a synchronous one.
 */
export async function loadDefinition(spec: StateMachineSpec): Promise<LoadedDefinition> {
  const text = readFileSync(spec.definitionPath, 'utf8');
  const definition = substitute(JSON.parse(text) as StateMachineDefinition, spec.substitutions);
  const functionNames = new Set<string>();
  for (const state of taskStates(definition as unknown as AslStates).values()) {
    const name = state.Parameters?.FunctionName;
    if (state.Resource?.startsWith('arn:aws:states:::lambda:invoke') && typeof name === 'string') {
      functionNames.add(name.split(':').at(-1) as string);
    }
  }
  return { definition, functionNames: [...functionNames] };
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  HeartbeatSecondsPath?: string;
  States?: Record<string, AslState>;
  Branches?: { States: Record<string, AslState> }[];
  Iterator?: { States: Record<string, AslState> };
  ItemProcessor?: { States: Record<string, AslState> };
}
export interface AslStates {
  States: Record<string, AslState>;
}

/** Every Task state in a definition, nested ones included, by name. */
export function taskStates(definition: AslStates): Map<string, AslState> {
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

/**
 * A Task's time limits as its definition states them. The runner enforces them itself
 * (local-tasks.ts): the engine evaluates TimeoutSecondsPath against the Task's input after
 * Parameters, not the state's input, and knows no heartbeats.
 */
export interface TaskTimeLimits {
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

/**
 * Keys the runner adds to a Task's Parameters so that the engine evaluates a TimeoutSecondsPath
 * or HeartbeatSecondsPath against the same input Step Functions does (the state's input); the
 * binding takes them out again before the Task sees its input.
 */
export const TIMEOUT_PARAMETER = 'sandbox:TimeoutSeconds';
export const HEARTBEAT_PARAMETER = 'sandbox:HeartbeatSeconds';

/**
 * The longest a JavaScript timer can wait (2^31 - 1 ms, about 24.8 days): what the engine's own
 * Task timer is given, so that it never fires before the runner's.
 */
const LONGEST_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition as the engine is to run it, and each Task's time limits. A Task without
 * `TimeoutSeconds` has no time-out of its own in AWS (it runs until its work answers or the
 * execution ends; see https://docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html),
 * while aws-local-stepfunctions gives it 60 seconds: the engine's timer is pushed out of reach
 * and the runner applies the definition's limits.
 */
export function forLocalEngine<T>(definition: T): {
  definition: T;
  limits: Map<string, TaskTimeLimits>;
} {
  const copy = structuredClone(definition) as unknown as AslStates;
  const limits = new Map<string, TaskTimeLimits>();
  for (const [name, state] of taskStates(copy)) {
    const limit: TaskTimeLimits = {
      ...(state.TimeoutSeconds !== undefined && { timeoutSeconds: state.TimeoutSeconds }),
      ...(state.TimeoutSecondsPath !== undefined && {
        timeoutSecondsPath: state.TimeoutSecondsPath,
      }),
      ...(state.HeartbeatSeconds !== undefined && { heartbeatSeconds: state.HeartbeatSeconds }),
      ...(state.HeartbeatSecondsPath !== undefined && {
        heartbeatSecondsPath: state.HeartbeatSecondsPath,
      }),
    };
    limits.set(name, limit);
    if (state.Parameters !== undefined) {
      if (limit.timeoutSecondsPath !== undefined) {
        state.Parameters[`${TIMEOUT_PARAMETER}.$`] = limit.timeoutSecondsPath;
      }
      if (limit.heartbeatSecondsPath !== undefined) {
        state.Parameters[`${HEARTBEAT_PARAMETER}.$`] = limit.heartbeatSecondsPath;
      }
    }
    delete state.TimeoutSecondsPath;
    delete state.HeartbeatSeconds;
    delete state.HeartbeatSecondsPath;
    state.TimeoutSeconds = LONGEST_TIMER_SECONDS;
  }
  return { definition: copy as unknown as T, limits };
}
