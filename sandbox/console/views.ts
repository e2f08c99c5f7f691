/**
 * The JSON the console's routes serve about executions (GET /sandbox/executions and
 * GET /sandbox/executions/{name}), shared by the server and the page.
 */

export type StateStatus = 'running' | 'succeeded' | 'failed' | 'caught';

export interface ExecutionSummary {
  name: string;
  execution_arn: string;
  /** The input's EmailIdentity, when it has one. */
  identity: string | null;
  /** SES's operation the run was started for (DKIM change runs start at ReadDkimSigning). */
  operation: 'CreateIdentity' | 'ChangeDkimSigning';
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  start_date: string;
  stop_date: string | null;
  /** Virtual seconds from the start to the stop, or to now while it runs. */
  elapsed_seconds: number;
  /** The state the run is in (RUNNING), or the last one it entered. */
  current_state: string | null;
  error: string | null;
  cause: string | null;
}

export interface ExecutionEventView {
  id: number;
  type: string;
  timestamp: string;
  /** Virtual seconds since the execution started. */
  elapsed_seconds: number;
  /** The state the event belongs to (Task events carry none of their own). */
  state: string | null;
  input?: unknown;
  output?: unknown;
  parameters?: unknown;
  error?: string;
  cause?: unknown;
}

export interface ExecutionView extends ExecutionSummary {
  /** How each state the run entered ended, by name. */
  states: Record<string, { status: StateStatus; entered: number }>;
  /** Each transition taken, in order. */
  transitions: { from: string; to: string }[];
  events: ExecutionEventView[];
}
