/**
 * Runs the real statemachine/verify-email-identity.asl.json in aws-local-stepfunctions, with
 * every Task bound to the real handler (sandbox/engine/local-tasks.ts) and the AWS clients
 * mocked by the test. Waits and retry back-offs run on vitest's fake timers: the driver moves
 * fake time to the next timer only while no task is running, so a 72-hour run takes
 * milliseconds and a real DNS query is never cut short by a jump in time.
 */
import '#sandbox/engine/promise-with-resolvers.js';
import { readFileSync } from 'node:fs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { StateMachine } from 'aws-local-stepfunctions';
import { vi } from 'vitest';
import { bindLocalTasks, type LambdaHandler } from '#sandbox/engine/local-tasks.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:VerifyEmailIdentity`;
export const EVENT_SOURCE = 'ses-identity-verifier';
const DEFINITION_FILE = new URL(
  '../../statemachine/verify-email-identity.asl.json',
  import.meta.url,
);

/** `CreateIdentityFunctionArn` → `create-identity`: the folder under functions/steps/ it names. */
const functionFolder = (placeholder: string) =>
  placeholder
    .replace(/FunctionArn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

/** The functions the definition invokes, by folder name. */
const FUNCTIONS = [
  ...new Set(
    [...readFileSync(DEFINITION_FILE, 'utf8').matchAll(/\$\{(\w+FunctionArn)\}/g)].map((m) =>
      functionFolder(m[1] as string),
    ),
  ),
];

/** The definition with its DefinitionSubstitutions filled in, as CloudFormation would. */
export function loadDefinition() {
  const raw = JSON.parse(readFileSync(DEFINITION_FILE, 'utf8'));
  const substitute = (name: string) => {
    if (name.endsWith('FunctionArn')) return functionArn(functionFolder(name));
    if (name === 'EventBusName') return 'identity-events';
    if (name === 'EventSource') return EVENT_SOURCE;
    throw new Error(`No test value for the substitution \${${name}}`);
  };
  return JSON.parse(
    JSON.stringify(raw, (_key, value) =>
      typeof value === 'string'
        ? value.replace(/\$\{(\w+)\}/g, (_m, name: string) => substitute(name))
        : value,
    ),
  );
}

function functionArn(name: string) {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}

/** Imports the step handlers (after the test has set their environment). */
export async function loadHandlers(): Promise<Record<string, LambdaHandler>> {
  const entries = await Promise.all(
    FUNCTIONS.map(async (name) => {
      const module = (await import(`../../functions/steps/${name}/handler.ts`)) as {
        handler: LambdaHandler;
      };
      return [name, module.handler] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export interface ExecutionOutcome {
  status: 'SUCCEEDED' | 'FAILED';
  /** Fail state Error (the reason code) when FAILED. */
  error: string | null;
  output: unknown;
  /** Names of the states entered, in order. */
  statesEntered: string[];
  /** Fake time elapsed from start to end, in seconds. */
  elapsedSeconds: number;
}

let executionCount = 0;

/** Runs one execution to its end on fake timers; the test must have called vi.useFakeTimers(). */
export async function runExecution(
  input: unknown,
  options: { handlers: Record<string, LambdaHandler>; overrides?: Record<string, LambdaHandler> },
): Promise<ExecutionOutcome> {
  executionCount += 1;
  const name = `test-${executionCount}`;
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:VerifyEmailIdentity:${name}`;
  const definition = loadDefinition();
  let running = 0;
  const tasks = bindLocalTasks(definition, {
    handlers: { ...options.handlers, ...options.overrides },
    eventBridge: new EventBridgeClient({}),
    executionArn,
    stateMachineArn: STATE_MACHINE_ARN,
    onTask: (_state, phase) => {
      running += phase === 'start' ? 1 : -1;
    },
  });
  const startedAt = Date.now();
  const execution = new StateMachine(definition).run(input as never, {
    overrides: { taskResourceLocalHandlers: tasks as never },
    context: {
      Execution: {
        Id: executionArn,
        Name: name,
        StartTime: new Date(startedAt).toISOString(),
        Input: input as never,
      },
    } as never,
  });

  const statesEntered: string[] = [];
  const logs = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') statesEntered.push(event.state.name);
    }
  })();

  let settled = false;
  const result = execution.result.then(
    (output) => ({ status: 'SUCCEEDED' as const, error: null, output }),
    (error: Error & { cause?: { name?: string } }) => ({
      status: 'FAILED' as const,
      error: error.cause?.name ?? error.name,
      output: null,
    }),
  );
  void result.finally(() => {
    settled = true;
  });
  // Time moves only between tasks: a handler's own work (a DNS query, generating a key) runs in
  // real time and is never cut short by a jump. Handlers under test must not sleep on a timer.
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  while (!settled) {
    await nextTurn();
    // Idle for a whole turn: the engine is waiting on a timer, not between two states.
    if (running === 0 && vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  }
  const outcome = await result;
  await logs;
  return { ...outcome, statesEntered, elapsedSeconds: Math.round((Date.now() - startedAt) / 1000) };
}
