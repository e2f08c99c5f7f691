/**
 * What the console shows of an execution, read from the history the sandbox keeps in
 * GetExecutionHistory's shape: a summary (the identity, status, current state, virtual time
 * elapsed), how each state it entered ended (as the Step Functions console colours them:
 * in progress, succeeded, failed, caught error), the transitions it took, and every event with
 * its input and output parsed. Every value passes through the key guard.
 */
import type { Execution, HistoryEvent } from '#sandbox/engine/executions.js';
import { redactJsonText, redactKeys, redactText } from './redact.js';
import type { ExecutionEventView, ExecutionSummary, ExecutionView, StateStatus } from './views.js';

export type { ExecutionEventView, ExecutionSummary, ExecutionView, StateStatus };

const enteredName = (event: HistoryEvent) =>
  (event.stateEnteredEventDetails as { name?: string } | undefined)?.name;

function identityOf(execution: Execution): string | null {
  try {
    const input = JSON.parse(execution.input) as { EmailIdentity?: unknown };
    return typeof input.EmailIdentity === 'string' ? redactText(input.EmailIdentity) : null;
  } catch {
    return null;
  }
}

function operationOf(execution: Execution): ExecutionSummary['operation'] {
  try {
    const input = JSON.parse(execution.input) as { SigningAttributesOrigin?: unknown };
    return input.SigningAttributesOrigin === undefined ? 'CreateIdentity' : 'ChangeDkimSigning';
  } catch {
    return 'CreateIdentity';
  }
}

/** The summary the console lists runs by. `now` is the virtual clock's. */
export function summarizeExecution(execution: Execution, now: Date): ExecutionSummary {
  const entered = execution.history.filter((event) => event.type.endsWith('StateEntered'));
  const last = entered.at(-1);
  const end = execution.stopDate ?? now;
  return {
    name: execution.name,
    execution_arn: execution.executionArn,
    identity: identityOf(execution),
    operation: operationOf(execution),
    status: execution.status,
    start_date: execution.startDate.toISOString(),
    stop_date: execution.stopDate?.toISOString() ?? null,
    elapsed_seconds: Math.max(
      0,
      Math.round((end.getTime() - execution.startDate.getTime()) / 1000),
    ),
    current_state: (last && enteredName(last)) ?? null,
    error: execution.error ?? null,
    cause: execution.cause === undefined ? null : redactText(execution.cause),
  };
}

/**
 * How each state ended, read from the history as the Step Functions console reads it: a state
 * entered and left succeeded, unless its Task's last attempt failed or timed out and the run
 * went on (a Catch took the error: caught); a Fail state, or the state the run was in when it
 * failed, failed; the state a running execution is in is running.
 */
export function stateStatuses(execution: Execution): {
  states: ExecutionView['states'];
  transitions: ExecutionView['transitions'];
} {
  const states: ExecutionView['states'] = {};
  const transitions: ExecutionView['transitions'] = [];
  let current: string | undefined;
  let currentFailed = false;
  for (const event of execution.history) {
    if (event.type.endsWith('StateEntered')) {
      const name = enteredName(event) as string;
      if (current !== undefined) {
        // Left without an exit: the state's error was caught.
        if (states[current]?.status === 'running') {
          (states[current] as { status: StateStatus }).status = currentFailed
            ? 'caught'
            : 'succeeded';
        }
        transitions.push({ from: current, to: name });
      }
      const before = states[name];
      states[name] = { status: 'running', entered: (before?.entered ?? 0) + 1 };
      current = name;
      currentFailed = false;
      if (event.type === 'FailStateEntered') states[name] = { ...states[name], status: 'failed' };
    } else if (event.type.endsWith('StateExited') && current !== undefined) {
      // The engine records an exit for a state whose error a Catch took, too.
      const state = states[current];
      if (state && state.status === 'running') {
        state.status = currentFailed ? 'caught' : 'succeeded';
      }
    } else if (event.type === 'TaskFailed' || event.type === 'TaskTimedOut') {
      currentFailed = true;
    } else if (event.type === 'TaskScheduled') {
      // A retry: the state is at work again.
      currentFailed = false;
    } else if (
      ['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted'].includes(event.type) &&
      current !== undefined
    ) {
      const state = states[current];
      if (state && state.status === 'running') state.status = 'failed';
    }
  }
  return { states, transitions };
}

/** The state each event of the history belongs to. */
function statesOfEvents(history: HistoryEvent[]): (string | null)[] {
  let current: string | null = null;
  return history.map((event) => {
    const entered = enteredName(event);
    if (entered !== undefined) current = entered;
    const exited = (event.stateExitedEventDetails as { name?: string } | undefined)?.name;
    if (event.type.startsWith('Execution')) return null;
    return exited ?? current;
  });
}

/** One history event for the console: its details parsed, keys hidden. */
function eventView(event: HistoryEvent, state: string | null, startMs: number): ExecutionEventView {
  const details = Object.entries(event).find(([field]) => field.endsWith('EventDetails'))?.[1] as
    | Record<string, unknown>
    | undefined;
  const view: ExecutionEventView = {
    id: event.id,
    type: event.type,
    timestamp: event.timestamp.toISOString(),
    elapsed_seconds: Math.max(0, Math.round((event.timestamp.getTime() - startMs) / 1000)),
    state,
  };
  if (!details) return view;
  if (typeof details.input === 'string') view.input = redactJsonText(details.input);
  if (typeof details.output === 'string') view.output = redactJsonText(details.output);
  if (typeof details.parameters === 'string') {
    view.parameters = redactJsonText(details.parameters);
  }
  if (typeof details.error === 'string') view.error = redactText(details.error);
  if (typeof details.cause === 'string') view.cause = redactJsonText(details.cause);
  return redactKeys(view) as ExecutionEventView;
}

/** The whole view of one execution: summary, state statuses, transitions, events. */
export function viewExecution(execution: Execution, now: Date): ExecutionView {
  const startMs = execution.startDate.getTime();
  const owners = statesOfEvents(execution.history);
  return {
    ...summarizeExecution(execution, now),
    ...stateStatuses(execution),
    events: execution.history.map((event, index) =>
      eventView(event, owners[index] ?? null, startMs),
    ),
  };
}
