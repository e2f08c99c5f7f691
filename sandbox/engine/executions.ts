import { randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync, constants as zlib } from 'node:zlib';
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { LOCAL_ACCOUNT } from '#sandbox/asl-runner/definition.js';
import type { EngineEvent } from '#sandbox/asl-runner/execution-context.js';
import type { LambdaHandler, TaskClients, TaskObserver } from '#sandbox/asl-runner/local-tasks.js';
import { AslRunner } from '#sandbox/asl-runner/runner.js';
import type { TaskTokens } from '#sandbox/asl-runner/task-tokens.js';

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

/** The histories of closed executions, compressed, until somebody reads one. */
const packedHistories = new WeakMap<Execution, { events?: HistoryEvent[]; packed?: Buffer }>();

/**
 * Makes `execution.history` read through {@link packedHistories}: once the execution has closed
 * its history is kept deflated (a closed run's events, each with its state's input or output, are
 * most of the sandbox's memory: about 170 KB a run, a tenth of that deflated), and inflated
 * again, for good, the first time something reads it. Step Functions keeps the history of a
 * closed execution, and so does the sandbox: GetExecutionHistory, the console and the progress
 * output read the same events as before.
 */
function keepHistoryCompactOnceClosed(execution: Execution): void {
  const store: { events?: HistoryEvent[]; packed?: Buffer } = { events: execution.history };
  packedHistories.set(execution, store);
  Object.defineProperty(execution, 'history', {
    enumerable: true,
    configurable: true,
    get(): HistoryEvent[] {
      if (store.events === undefined) {
        const text = inflateRawSync(store.packed ?? Buffer.alloc(0)).toString('utf8');
        store.events = (JSON.parse(text || '[]') as HistoryEvent[]).map((event) => ({
          ...event,
          timestamp: new Date(event.timestamp),
        }));
        store.packed = undefined;
      }
      return store.events;
    },
    set(events: HistoryEvent[]) {
      store.events = events;
      store.packed = undefined;
    },
  });
}

/** Deflates a closed execution's history (see {@link keepHistoryCompactOnceClosed}). */
function packHistory(execution: Execution): void {
  const store = packedHistories.get(execution);
  if (store?.events === undefined) return;
  store.packed = deflateRawSync(JSON.stringify(store.events), { level: zlib.Z_BEST_SPEED });
  store.events = undefined;
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
  /** The clients the direct integrations call through (pointed at the sandbox endpoint). */
  clients: TaskClients;
  /** The task tokens SendTaskSuccess and friends answer. */
  tokens: TaskTokens;
  now: () => Date;
  /** The region of the ARNs and of the Lambda context. */
  region: string;
  /** Runs each Task's real work (the sandbox's virtual clock holds time while it works). */
  runTask?: <T>(work: () => Promise<T>) => Promise<T>;
  roleArn?: string;
}

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
  private readonly runner: AslRunner;
  private readonly executions = new Map<string, Execution>();
  private readonly aborts = new Map<string, (error?: string, cause?: string) => void>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly options: LocalStateMachineOptions) {
    this.name = options.name;
    this.arn = `arn:aws:states:${options.region}:${LOCAL_ACCOUNT}:stateMachine:${options.name}`;
    this.creationDate = options.now();
    this.definitionText = JSON.stringify(options.definition, null, 2);
    const runTask = options.runTask;
    const around = runTask && (<T>(_stateName: string, work: () => Promise<T>) => runTask(work));
    this.runner = new AslRunner({
      definition: options.definition,
      stateMachineArn: this.arn,
      stateMachineName: options.name,
      region: options.region,
      ...(options.roleArn && { roleArn: options.roleArn }),
      handlers: options.handlers,
      clients: options.clients,
      tokens: options.tokens,
      ...(around && { around }),
    });
    this.roleArn = this.runner.roleArn;
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
    keepHistoryCompactOnceClosed(execution);
    this.executions.set(executionArn, execution);

    let stopReason: { error?: string; cause?: string } | undefined;
    const run = this.runner.start(parsed, {
      name,
      executionArn,
      observer: this.observerOf(execution),
      listen: (context) =>
        context.onEvent((event) => this.recordEngineEvent(execution, event, stopReason)),
    });
    this.aborts.set(executionArn, (error, cause) => {
      stopReason = { error, cause };
      run.abort();
    });

    const finish = (status: ExecutionStatus, fields: Partial<Execution>) => {
      Object.assign(execution, fields, { status, stopDate: this.options.now() });
      this.aborts.delete(executionArn);
      settle(execution);
      packHistory(execution);
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

  private recordEngineEvent(
    execution: Execution,
    event: EngineEvent,
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

  /** Records TaskScheduled, TaskStarted, TaskSubmitted and how each Task attempt ended. */
  private observerOf(execution: Execution): TaskObserver {
    let resource = { resourceType: 'unknown', resource: 'unknown' };
    return {
      scheduled: (_stateName, details) => {
        resource = { resourceType: details.resourceType, resource: details.resource };
        this.record(execution, 'TaskScheduled', {
          taskScheduledEventDetails: {
            ...resource,
            region: this.options.region,
            parameters: JSON.stringify(details.parameters ?? null),
            ...(details.timeoutInSeconds !== undefined && {
              timeoutInSeconds: details.timeoutInSeconds,
            }),
            ...(details.heartbeatInSeconds !== undefined && {
              heartbeatInSeconds: details.heartbeatInSeconds,
            }),
          },
        });
      },
      started: () => this.record(execution, 'TaskStarted', { taskStartedEventDetails: resource }),
      submitted: (_stateName, output) =>
        this.record(execution, 'TaskSubmitted', {
          taskSubmittedEventDetails: {
            ...resource,
            output: JSON.stringify(output ?? null),
            outputDetails: { truncated: false },
          },
        }),
      succeeded: (_stateName, output) =>
        this.record(execution, 'TaskSucceeded', {
          taskSucceededEventDetails: {
            ...resource,
            output: JSON.stringify(output ?? null),
            outputDetails: { truncated: false },
          },
        }),
      failed: (_stateName, error, cause) =>
        this.record(execution, 'TaskFailed', {
          taskFailedEventDetails: { ...resource, error, cause },
        }),
      timedOut: (_stateName, error, cause) =>
        this.record(execution, 'TaskTimedOut', {
          taskTimedOutEventDetails: { ...resource, error, cause },
        }),
    };
  }
}
