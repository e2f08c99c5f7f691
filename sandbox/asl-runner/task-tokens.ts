/**
 * Task tokens, as Step Functions hands them out for `.waitForTaskToken` tasks: one per Task
 * attempt, opaque, completed once (SendTaskSuccess or SendTaskFailure) and kept alive by
 * SendTaskHeartbeat. A token whose task has ended, by an answer, a time-out or the end of its
 * execution, answers TaskTimedOut ("Provided task does not exist anymore"), as Step Functions
 * does; one it never issued, TaskDoesNotExist; one that is not a token at all, InvalidToken.
 * Part of the ASL runner: the sandbox's Step Functions API and the state machine tests complete
 * the same tokens.
 */
import { randomBytes } from 'node:crypto';

/** How a task's token was answered. */
export type TaskAnswer =
  | { kind: 'success'; output: unknown }
  | { kind: 'failure'; error: string | undefined; cause: string | undefined };

/** An answer Step Functions refuses, with its API error code. */
export class TaskTokenError extends Error {
  constructor(
    readonly code:
      | 'TaskDoesNotExist'
      | 'TaskTimedOut'
      | 'InvalidToken'
      | 'InvalidOutput'
      | 'ValidationException',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** The execution a waiting task belonged to has ended: nobody waits for the answer any more. */
export class TaskClosedError extends Error {
  override name = 'TaskClosedError';
}

interface OpenTask {
  executionArn: string;
  stateName: string;
  answer: Promise<TaskAnswer>;
  settle: (answer: TaskAnswer) => void;
  abandon: (error: Error) => void;
  answered: boolean;
  heartbeats: Set<() => void>;
}

const TOKEN = /^AQ[A-Za-z0-9+/]{100,}={0,2}$/;
const MAX_TOKEN_LENGTH = 2048;
const MAX_OUTPUT_LENGTH = 262_144;

export class TaskTokens {
  private readonly open = new Map<string, OpenTask>();
  /** The open tokens of each execution: ending one does not look through every open task. */
  private readonly openByExecution = new Map<string, Set<string>>();
  /** Tokens whose task has ended, by a result or not: they answer TaskTimedOut. */
  private readonly closed = new Set<string>();

  /** A new token for one attempt of a Task state of an execution. */
  mint(executionArn: string, stateName: string): string {
    const token = `AQ${randomBytes(96).toString('base64')}`;
    let settle!: (answer: TaskAnswer) => void;
    let abandon!: (error: Error) => void;
    const answer = new Promise<TaskAnswer>((resolve, reject) => {
      settle = resolve;
      abandon = reject;
    });
    // Nobody may ever wait for an attempt that failed before it waited: no unhandled rejection.
    answer.catch(() => undefined);
    this.open.set(token, {
      executionArn,
      stateName,
      answer,
      settle,
      abandon,
      answered: false,
      heartbeats: new Set(),
    });
    let tokens = this.openByExecution.get(executionArn);
    if (!tokens) {
      tokens = new Set();
      this.openByExecution.set(executionArn, tokens);
    }
    tokens.add(token);
    return token;
  }

  /** The answer to a token, whenever it comes (it may already have). */
  answer(token: string): Promise<TaskAnswer> {
    const task = this.open.get(token);
    if (!task) return Promise.reject(new TaskClosedError('The task has ended'));
    return task.answer;
  }

  /** Calls `listener` on every SendTaskHeartbeat for `token`; returns a function that stops it. */
  onHeartbeat(token: string, listener: () => void): () => void {
    const task = this.open.get(token);
    task?.heartbeats.add(listener);
    return () => task?.heartbeats.delete(listener);
  }

  /** SendTaskSuccess: `output` is the JSON text the caller sent. */
  succeed(token: unknown, output: unknown): void {
    const task = this.take(token);
    if (typeof output !== 'string' || output.length > MAX_OUTPUT_LENGTH) {
      throw new TaskTokenError(
        'InvalidOutput',
        `Invalid Output: the output must be a JSON text of at most ${MAX_OUTPUT_LENGTH} characters`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new TaskTokenError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    task.answered = true;
    task.settle({ kind: 'success', output: parsed });
  }

  /** SendTaskFailure. */
  fail(token: unknown, error: unknown, cause: unknown): void {
    if (error !== undefined && (typeof error !== 'string' || error.length > 256)) {
      throw new TaskTokenError(
        'ValidationException',
        "1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256",
      );
    }
    if (cause !== undefined && (typeof cause !== 'string' || cause.length > 32_768)) {
      throw new TaskTokenError(
        'ValidationException',
        "1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
      );
    }
    const task = this.take(token);
    task.answered = true;
    task.settle({
      kind: 'failure',
      error: error as string | undefined,
      cause: cause as string | undefined,
    });
  }

  /** SendTaskHeartbeat. */
  heartbeat(token: unknown): void {
    const task = this.find(token);
    for (const listener of task.heartbeats) listener();
  }

  /**
   * Ends a token's task (answered, timed out or failed): from now on it answers TaskTimedOut,
   * and whoever still waits for it is told the task is gone.
   */
  close(token: string): void {
    const task = this.open.get(token);
    if (!task) return;
    this.open.delete(token);
    const tokens = this.openByExecution.get(task.executionArn);
    tokens?.delete(token);
    if (tokens?.size === 0) this.openByExecution.delete(task.executionArn);
    this.closed.add(token);
    if (!task.answered) task.abandon(new TaskClosedError('The task has ended'));
  }

  /** Ends every open task of an execution that has ended (or was stopped). */
  closeExecution(executionArn: string): void {
    for (const token of [...(this.openByExecution.get(executionArn) ?? [])]) this.close(token);
  }

  /** Open tasks (for tests and the sandbox's progress). */
  get openCount(): number {
    return this.open.size;
  }

  private find(token: unknown): OpenTask {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new TaskTokenError(
        'ValidationException',
        "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048",
      );
    }
    const task = this.open.get(token);
    if (task) return task;
    if (this.closed.has(token)) {
      throw new TaskTokenError(
        'TaskTimedOut',
        "Task Timed Out: 'Provided task does not exist anymore'",
      );
    }
    if (!TOKEN.test(token))
      throw new TaskTokenError('InvalidToken', "Invalid Token: 'Invalid token'");
    throw new TaskTokenError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  /** The open task of a token that may be answered once: a second answer is TaskTimedOut. */
  private take(token: unknown): OpenTask {
    const task = this.find(token);
    if (task.answered) {
      throw new TaskTokenError(
        'TaskTimedOut',
        "Task Timed Out: 'Provided task does not exist anymore'",
      );
    }
    return task;
  }
}
