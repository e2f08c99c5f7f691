/**
 * Runs executions of one state machine with aws-local-stepfunctions: the definition prepared for
 * the engine (definition.ts), each run's context object (execution-context.ts), its Tasks bound
 * to local handlers and real or mocked clients (local-tasks.ts), and its task tokens
 * (task-tokens.ts), closed when the run ends. The sandbox's engine (sandbox/engine/executions.ts)
 * and the state machine tests (test/state-machine/harness.ts) both run through it.
 */
// aws-local-stepfunctions calls Promise.withResolvers (Node 22); this must load before it.
import './promise-with-resolvers.js';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  type AslStates,
  forLocalEngine,
  LOCAL_ACCOUNT,
  type TaskTimeLimits,
} from './definition.js';
import { ExecutionContext, instrument } from './execution-context.js';
import {
  bindLocalTasks,
  type LambdaHandler,
  type LocalTaskOptions,
  type TaskClients,
  type TaskObserver,
} from './local-tasks.js';
import type { TaskTokens } from './task-tokens.js';

export interface AslRunnerOptions {
  /** The definition with its substitutions applied. */
  definition: StateMachineDefinition;
  stateMachineArn: string;
  stateMachineName: string;
  region: string;
  roleArn?: string;
  /** The Lambda handlers, by function name. */
  handlers: Record<string, LambdaHandler>;
  clients: TaskClients;
  tokens: TaskTokens;
  /** Runs each Task's real work (see LocalTaskOptions.around). */
  around?: LocalTaskOptions['around'];
}

/** A running execution. Its events reach `context.onEvent` listeners as they happen. */
export interface LocalRun {
  result: Promise<unknown>;
  abort(): void;
  context: ExecutionContext;
}

export class AslRunner {
  readonly roleArn: string;
  private readonly machine: StateMachine;
  private readonly limits: Map<string, TaskTimeLimits>;
  private readonly engineDefinition: StateMachineDefinition;

  constructor(private readonly options: AslRunnerOptions) {
    this.roleArn =
      options.roleArn ??
      `arn:aws:iam::${LOCAL_ACCOUNT}:role/${options.stateMachineName}-execution-role`;
    const prepared = forLocalEngine(options.definition);
    this.engineDefinition = prepared.definition;
    this.limits = prepared.limits;
    // The ASL is validated by the project's checks (asl-validator); skipping it here saves
    // start-up time on every `npm start`.
    this.machine = instrument(
      new StateMachine(this.engineDefinition, { validationOptions: { noValidate: true } }),
    );
  }

  /**
   * Starts one execution; its tokens close when it ends, however it ends. `listen` is called
   * before the first event (ExecutionStarted).
   */
  start(
    input: unknown,
    execution: {
      name: string;
      executionArn: string;
      observer?: TaskObserver;
      listen?: (context: ExecutionContext) => void;
    },
  ): LocalRun {
    const { options } = this;
    const context = new ExecutionContext(
      {
        executionArn: execution.executionArn,
        name: execution.name,
        roleArn: this.roleArn,
        stateMachineArn: options.stateMachineArn,
        stateMachineName: options.stateMachineName,
      },
      options.tokens,
    );
    execution.listen?.(context);
    const tasks = bindLocalTasks(this.engineDefinition as unknown as AslStates, {
      handlers: options.handlers,
      clients: options.clients,
      executionArn: execution.executionArn,
      stateMachineArn: options.stateMachineArn,
      region: options.region,
      tokens: options.tokens,
      context,
      limits: this.limits,
      ...(options.around && { around: options.around }),
      ...(execution.observer && { observer: execution.observer }),
    });
    const run = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: tasks as never },
      context: context.context as never,
    });
    // The events reach the context's listeners as they happen; the engine's own log of them is
    // drained, or it would keep every state's input and output until the run is collected.
    void (async () => {
      for await (const _event of run.eventLogs) {
        // Nothing to do: see above.
      }
    })();
    const close = () => options.tokens.closeExecution(execution.executionArn);
    const result = run.result.finally(close);
    return {
      result,
      abort: () => {
        run.abort();
        close();
      },
      context,
    };
  }
}
