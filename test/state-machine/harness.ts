/**
 * Runs the real statemachine/verify-email-identity.asl.json with the ASL runner the sandbox uses
 * (sandbox/asl-runner/: the same definition loading, substitutions and Task binding), every Task
 * bound to the real handler and the AWS clients mocked by the test. Waits and retry back-offs run
 * on vitest's fake timers: the driver moves fake time to the next timer only while no task is
 * running, so a 72-hour run takes milliseconds and a real DNS query is never cut short by a jump
 * in time.
 */
import '#sandbox/asl-runner/promise-with-resolvers.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { vi } from 'vitest';
import {
  LOCAL_ACCOUNT,
  type LoadedDefinition,
  loadDefinition,
  withStepFunctionsTaskTimeouts,
} from '#sandbox/asl-runner/definition.js';
import { importStepHandlers } from '#sandbox/asl-runner/handlers.js';
import { bindLocalTasks, type LambdaHandler } from '#sandbox/asl-runner/local-tasks.js';

const REGION = 'us-east-1';
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:stateMachine:VerifyEmailIdentity`;
export const EVENT_SOURCE = 'ses-identity-verifier';

let loaded: Promise<LoadedDefinition> | undefined;
/** The definition with its DefinitionSubstitutions filled in, as CloudFormation would. */
const definitionOnce = () =>
  (loaded ??= loadDefinition({
    eventBusName: 'identity-events',
    eventSource: EVENT_SOURCE,
    region: REGION,
  }));

/** Imports the step handlers the definition invokes (after the test has set their environment). */
export async function loadHandlers(): Promise<Record<string, LambdaHandler>> {
  return importStepHandlers((await definitionOnce()).functionNames);
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
  const executionArn = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:execution:VerifyEmailIdentity:${name}`;
  // A fresh copy per run: the engine may mutate what it is given.
  const definition = structuredClone((await definitionOnce()).definition);
  let running = 0;
  const tasks = bindLocalTasks(definition as Parameters<typeof bindLocalTasks>[0], {
    handlers: { ...options.handlers, ...options.overrides },
    eventBridge: new EventBridgeClient({}),
    executionArn,
    stateMachineArn: STATE_MACHINE_ARN,
    region: REGION,
    around: async (_stateName, work) => {
      running += 1;
      try {
        return await work();
      } finally {
        running -= 1;
      }
    },
  });
  const startedAt = Date.now();
  const machine = new StateMachine(
    withStepFunctionsTaskTimeouts(definition) as StateMachineDefinition,
  );
  const execution = machine.run(input as never, {
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
