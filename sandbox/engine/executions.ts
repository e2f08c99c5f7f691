// aws-local-stepfunctions calls Promise.withResolvers (Node 22); this must load before it.
import '#sandbox/asl-runner/promise-with-resolvers.js';
import { randomUUID } from 'node:crypto';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { LOCAL_ACCOUNT, withStepFunctionsTaskTimeouts } from '#sandbox/asl-runner/definition.js';
import { bindLocalTasks, type LambdaHandler, taskStates } from '#sandbox/asl-runner/local-tasks.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One event of an execution's history, shaped as GetExecutionHistory returns it. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

export interface Execution {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate: Date | undefined;
  /** The input as given to StartExecution (a JSON string). */
  input: string;
  output: string | undefined;
  error: string | undefined;
  cause: string | undefined;
  history: HistoryEvent[];
  /** Settles when the execution reaches a terminal status. */
  done: Promise<Execution>;
}

/** A StartExecution (or other call) rejected the way Step Functions rejects it. */
export class StepFunctionsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export interface LocalStateMachineOptions {
  name: string;
  /** The definition with its substitutions applied. */
  definition: StateMachineDefinition;
  /** The Lambda handlers, by function name (the folder under functions/). */
  handlers: Record<string, LambdaHandler>;
  /** The client the putEvents tasks send through (pointed at the sandbox endpoint). */
  eventBridge: EventBridgeClient;
  now: () => Date;
  /** The region of the ARNs and of the Lambda context. */
  region: string;
  /** Runs each Task's work (the sandbox's virtual clock holds time while it works). */
  runTask?: <T>(work: () => Promise<T>) => Promise<T>;
  roleArn?: string;
}

type LibraryEvent = { type: string; timestamp: number; [field: string]: unknown };
type Listener = (execution: Execution, event: HistoryEvent) => void;

// Step Functions' execution name rule: 1-80 characters, none of whitespace, brackets,
// wildcards, special characters or control characters.
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
const isValidName = (name: string) =>
  name.length >= 1 &&
  name.length <= 80 &&
  !NAME_FORBIDDEN.test(name) &&
  ![...name].some((char) => {
    const code = char.charCodeAt(0);
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });

const realSetImmediate = globalThis.setImmediate;

/**
 * One state machine of the sandbox, run by aws-local-stepfunctions with every Task bound to a
 * local handler. It keeps what Step Functions keeps about each execution (status, output,
 * error and cause, a history in GetExecutionHistory's shape), so that the emulated Step
 * Functions API, the CLI's progress output and the tests all read the same record.
 */
export class LocalStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly roleArn: string;
  readonly creationDate: Date;
  readonly definitionText: string;
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly aborts = new Map<string, (error?: string, cause?: string) => void>();
  private readonly listeners = new Set<Listener>();
  private readonly tasks: Map<string, { Resource?: string }>;

  constructor(private readonly options: LocalStateMachineOptions) {
    this.name = options.name;
    this.arn = `arn:aws:states:${options.region}:${LOCAL_ACCOUNT}:stateMachine:${options.name}`;
    this.roleArn =
      options.roleArn ?? `arn:aws:iam::${LOCAL_ACCOUNT}:role/${options.name}-execution-role`;
    this.creationDate = options.now();
    this.definitionText = JSON.stringify(options.definition, null, 2);
    // The ASL is validated by the project's checks (asl-validator); skipping it here saves
    // start-up time on every `npm start`.
    this.machine = new StateMachine(withStepFunctionsTaskTimeouts(options.definition), {
      validationOptions: { noValidate: true },
    });
    this.tasks = taskStates(options.definition as Parameters<typeof taskStates>[0]);
  }

  /** Calls `listener` with every history event of every execution, as it is recorded. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * StartExecution. Names are idempotent as in Step Functions (Standard): the same name with
   * the same input while that execution runs returns it again; a different input, or a name
   * whose execution has closed, is ExecutionAlreadyExists.
   */
  start(input: string | undefined, name: string = randomUUID()): Execution {
    const inputText = input ?? '{}';
    let parsed: unknown;
    try {
      parsed = JSON.parse(inputText);
    } catch {
      throw new StepFunctionsError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input',
      );
    }
    if (!isValidName(name)) {
      throw new StepFunctionsError('InvalidName', `Invalid Name: '${name}'`);
    }
    const executionArn = `arn:aws:states:${this.options.region}:${LOCAL_ACCOUNT}:execution:${this.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new StepFunctionsError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${executionArn}'`,
      );
    }

    let settle!: (execution: Execution) => void;
    const execution: Execution = {
      executionArn,
      name,
      stateMachineArn: this.arn,
      status: 'RUNNING',
      startDate: this.options.now(),
      stopDate: undefined,
      input: inputText,
      output: undefined,
      error: undefined,
      cause: undefined,
      history: [],
      done: new Promise<Execution>((resolve) => {
        settle = resolve;
      }),
    };
    this.executions.set(executionArn, execution);

    const run = this.machine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: this.bindTasks(execution) as never },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          RoleArn: this.roleArn,
          StartTime: execution.startDate.toISOString(),
        },
        StateMachine: { Id: this.arn, Name: this.name },
      },
    });

    let stopReason: { error?: string; cause?: string } | undefined;
    this.aborts.set(executionArn, (error, cause) => {
      stopReason = { error, cause };
      run.abort();
    });

    const recording = (async () => {
      for await (const event of run.eventLogs) {
        this.recordLibraryEvent(execution, event as unknown as LibraryEvent, stopReason);
      }
    })();

    const finish = async (status: ExecutionStatus, fields: Partial<Execution>) => {
      // Let the event log drain so the history ends with the terminal event before `done`.
      await recording.catch(() => undefined);
      Object.assign(execution, fields, { status, stopDate: this.options.now() });
      this.aborts.delete(executionArn);
      settle(execution);
    };
    run.result.then(
      (output) => finish('SUCCEEDED', { output: JSON.stringify(output ?? null) }),
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError || stopReason) {
          return finish('ABORTED', { error: stopReason?.error, cause: stopReason?.cause });
        }
        if (error instanceof ExecutionTimeoutError) {
          return finish('TIMED_OUT', { error: 'States.Timeout' });
        }
        const failure = (error as Error).cause as Error | undefined;
        return finish('FAILED', {
          error: failure?.name ?? 'States.Runtime',
          cause: failure?.message ?? String(error),
        });
      },
    );
    return execution;
  }

  describe(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) {
      throw new StepFunctionsError(
        'ExecutionDoesNotExist',
        `Execution Does Not Exist: '${executionArn}'`,
      );
    }
    return execution;
  }

  /** Executions, newest first, as ListExecutions orders them. */
  list(statusFilter?: ExecutionStatus): Execution[] {
    return [...this.executions.values()]
      .reverse()
      .filter((execution) => !statusFilter || execution.status === statusFilter);
  }

  /** StopExecution: aborts a running execution; a closed one is left as it is. */
  stop(executionArn: string, error?: string, cause?: string): Execution {
    const execution = this.describe(executionArn);
    this.aborts.get(executionArn)?.(error, cause);
    return execution;
  }

  private record(
    execution: Execution,
    type: string,
    details: Record<string, unknown>,
    at?: number,
  ) {
    const previous = execution.history.at(-1);
    const event: HistoryEvent = {
      timestamp: at === undefined ? this.options.now() : new Date(at),
      type,
      id: (previous?.id ?? 0) + 1,
      previousEventId: previous?.id ?? 0,
      ...details,
    };
    execution.history.push(event);
    for (const listener of this.listeners) listener(execution, event);
  }

  private recordLibraryEvent(
    execution: Execution,
    event: LibraryEvent,
    stopReason: { error?: string; cause?: string } | undefined,
  ) {
    const state = event.state as { name: string; type: string; input: unknown; output?: unknown };
    switch (event.type) {
      case 'ExecutionStarted':
        this.record(
          execution,
          'ExecutionStarted',
          {
            executionStartedEventDetails: {
              input: execution.input,
              inputDetails: { truncated: false },
              roleArn: this.roleArn,
              stateMachineArn: this.arn,
            },
          },
          event.timestamp,
        );
        break;
      case 'StateEntered':
        this.record(
          execution,
          `${state.type}StateEntered`,
          {
            stateEnteredEventDetails: {
              name: state.name,
              input: JSON.stringify(state.input ?? null),
              inputDetails: { truncated: false },
            },
          },
          event.timestamp,
        );
        break;
      case 'StateExited':
        this.record(
          execution,
          `${state.type}StateExited`,
          {
            stateExitedEventDetails: {
              name: state.name,
              output: JSON.stringify(state.output ?? null),
              outputDetails: { truncated: false },
            },
          },
          event.timestamp,
        );
        break;
      case 'ExecutionSucceeded':
        this.record(
          execution,
          'ExecutionSucceeded',
          {
            executionSucceededEventDetails: {
              output: JSON.stringify(event.output ?? null),
              outputDetails: { truncated: false },
            },
          },
          event.timestamp,
        );
        break;
      case 'ExecutionFailed':
        this.record(
          execution,
          'ExecutionFailed',
          {
            executionFailedEventDetails: {
              error: event.Error,
              cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause),
            },
          },
          event.timestamp,
        );
        break;
      case 'ExecutionAborted':
        this.record(
          execution,
          'ExecutionAborted',
          { executionAbortedEventDetails: { error: stopReason?.error, cause: stopReason?.cause } },
          event.timestamp,
        );
        break;
      case 'ExecutionTimeout':
        this.record(
          execution,
          'ExecutionTimedOut',
          { executionTimedOutEventDetails: {} },
          event.timestamp,
        );
        break;
      default:
        // StateFailed, StateRetried and StateCaught have no event of their own in Step
        // Functions' history: the Task* events below tell the same story.
        break;
    }
  }

  /** The task bindings, each recording TaskScheduled/Started/Succeeded/Failed around the call. */
  private bindTasks(execution: Execution) {
    const bound = bindLocalTasks(this.options.definition as Parameters<typeof bindLocalTasks>[0], {
      handlers: this.options.handlers,
      eventBridge: this.options.eventBridge,
      executionArn: execution.executionArn,
      stateMachineArn: this.arn,
      region: this.options.region,
    });
    const wrapped: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, run] of Object.entries(bound)) {
      const { resourceType, resource } = resourceOf(this.tasks.get(stateName)?.Resource);
      const runTask = this.options.runTask ?? ((work) => work());
      wrapped[stateName] = (input) =>
        runTask(async () => {
          // The state's Entered event is dispatched synchronously but recorded a turn later.
          await new Promise<void>((resolve) => realSetImmediate(resolve));
          this.record(execution, 'TaskScheduled', {
            taskScheduledEventDetails: {
              resourceType,
              resource,
              region: this.options.region,
              parameters: JSON.stringify(input ?? null),
            },
          });
          this.record(execution, 'TaskStarted', {
            taskStartedEventDetails: { resourceType, resource },
          });
          try {
            const output = await run(input);
            this.record(execution, 'TaskSucceeded', {
              taskSucceededEventDetails: {
                resourceType,
                resource,
                output: JSON.stringify(output ?? null),
                outputDetails: { truncated: false },
              },
            });
            return output;
          } catch (error) {
            const err = error as Error;
            this.record(execution, 'TaskFailed', {
              taskFailedEventDetails: {
                resourceType,
                resource,
                error: err.name,
                cause: err.message,
              },
            });
            throw error;
          }
        });
    }
    return wrapped;
  }
}

/** `arn:aws:states:::lambda:invoke` → `{ resourceType: 'lambda', resource: 'invoke' }`. */
function resourceOf(arn: string | undefined): { resourceType: string; resource: string } {
  const [resourceType = 'unknown', resource = 'unknown'] = (arn ?? '')
    .replace(/^arn:aws:states:::/, '')
    .split(':');
  return { resourceType, resource };
}
