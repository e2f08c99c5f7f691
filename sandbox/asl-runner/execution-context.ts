/**
 * The context object (`$$`) of one execution, as Step Functions fills it: `Execution`,
 * `StateMachine`, `State` (`Name`, `EnteredTime`, `RetryCount`) and, inside a Task, `Task.Token`.
 *
 * aws-local-stepfunctions 3.0.0 gives a run only what `runOptions.context` holds, spread
 * shallowly into its own context object (plus `Execution.Input` and `StartTime`), and has no
 * `$$.State` or `$$.Task` of its own. So `State` and `Task` here are objects whose getters read
 * this execution's current state, which `instrument` keeps up to date from the engine's events
 * as it dispatches them (synchronously: StateEntered comes before the state's Parameters are
 * evaluated). Each read of `$$.Task.Token` in one Task attempt gives that attempt's token, minted
 * on first read; the Task's binding then takes it to wait on. The same events reach listeners
 * (`onEvent`) in the order they happen, which the sandbox's execution history relies on.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { TaskTokens } from './task-tokens.js';

export interface ExecutionIdentity {
  executionArn: string;
  name: string;
  roleArn: string;
  stateMachineArn: string;
  stateMachineName: string;
}

/** An event as aws-local-stepfunctions dispatches it (ExecutionStarted, StateEntered...). */
export interface EngineEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  [field: string]: unknown;
}

const contexts = new WeakMap<object, ExecutionContext>();

export class ExecutionContext {
  /** What to pass as `runOptions.context`. */
  readonly context: Record<string, unknown>;
  private stateName = '';
  private enteredTime = '';
  private retryCount = 0;
  private entries = 0;
  private pending: { attempt: string; stateName: string; token: string } | undefined;
  private readonly listeners = new Set<(event: EngineEvent) => void>();

  constructor(
    readonly identity: ExecutionIdentity,
    private readonly tokens: TaskTokens,
  ) {
    const self = this;
    // Own accessor properties: the engine's JSONPath reads them like plain fields.
    const state = {
      get Name() {
        return self.stateName;
      },
      get EnteredTime() {
        return self.enteredTime;
      },
      get RetryCount() {
        return self.retryCount;
      },
    };
    const task = {
      get Token() {
        return self.currentToken();
      },
    };
    this.context = {
      Execution: {
        Id: identity.executionArn,
        Name: identity.name,
        RoleArn: identity.roleArn,
        RedriveCount: 0,
      },
      StateMachine: { Id: identity.stateMachineArn, Name: identity.stateMachineName },
      State: state,
      Task: task,
    };
    contexts.set(this.context, this);
  }

  /** The state the execution is in, and when it entered it. */
  get current(): { name: string; enteredTime: string; retryCount: number } {
    return { name: this.stateName, enteredTime: this.enteredTime, retryCount: this.retryCount };
  }

  /** Calls `listener` with each of the engine's events of this execution, as it happens. */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An event the engine dispatched: a state entered or retried moves `$$.State` on. */
  engineEvent(event: EngineEvent): void {
    if (event.type === 'StateEntered' && event.state) {
      this.stateName = event.state.name;
      this.enteredTime = new Date(event.timestamp).toISOString();
      this.retryCount = 0;
      this.entries += 1;
    } else if (event.type === 'StateRetried') {
      this.retryCount += 1;
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * The token of the current Task attempt, for the Task's binding to wait on: the one its
   * Parameters read as `$$.Task.Token`, or a new one if they did not (nobody can answer it then,
   * so the Task waits for its time-out, as in Step Functions).
   */
  takeToken(stateName: string): string {
    const pending = this.pending;
    this.pending = undefined;
    // The engine calls a Task's binding right after evaluating its Parameters, with nothing in
    // between, so the token read last is this Task's. Its state name is not compared: inside a
    // Map iteration the engine forwards the iteration's events later, so the name read then is
    // still the Map's.
    if (pending) return pending.token;
    return this.tokens.mint(this.identity.executionArn, stateName);
  }

  private attempt(): string {
    return `${this.entries}:${this.retryCount}`;
  }

  private currentToken(): string {
    const attempt = this.attempt();
    if (this.pending?.attempt !== attempt) {
      this.pending = {
        attempt,
        stateName: this.stateName,
        token: this.tokens.mint(this.identity.executionArn, this.stateName),
      };
    }
    return this.pending.token;
  }
}

interface EngineLogger {
  dispatch(event: EngineEvent): void;
}
interface EngineRunOptions {
  runOptions?: { context?: object };
  eventLogger: EngineLogger;
}
type Execute = (input: unknown, options: EngineRunOptions, cleanup: () => void) => Promise<unknown>;

/**
 * Makes a state machine report each run's events to its ExecutionContext as they are dispatched.
 * It wraps the engine's own (private) `execute`, the one place that sees both a run's event
 * logger and its options. Pinned to aws-local-stepfunctions 3.0.0: a version without that
 * method fails here, at once.
 */
export function instrument<T extends StateMachine>(machine: T): T {
  const engine = machine as unknown as { execute?: Execute };
  const execute = engine.execute;
  if (typeof execute !== 'function') {
    throw new Error(
      'aws-local-stepfunctions has no StateMachine.execute any more: $$.State and $$.Task.Token need another hook',
    );
  }
  engine.execute = function instrumented(this: unknown, input, options, cleanup) {
    const context = options.runOptions?.context && contexts.get(options.runOptions.context);
    if (context) {
      const logger = options.eventLogger;
      const dispatch = logger.dispatch.bind(logger);
      logger.dispatch = (event) => {
        context.engineEvent(event);
        dispatch(event);
      };
    }
    return execute.call(this, input, options, cleanup);
  };
  return machine;
}
