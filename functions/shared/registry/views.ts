import { consoleUrlFor } from '#shared/runs/execution-names.js';
import type { RunReason, RunRecord, RunStatus } from './items.js';

/** The latest run of the workflow for an identity, as the API shows it. */
export interface LatestRun {
  id: string;
  execution_arn: string;
  operation: string;
  status: RunStatus;
  started_at: string;
  ended_at: string | null;
  /** The Step Functions console page of the execution. */
  console_url: string;
  /** Why it failed, and whether the same request may succeed later. Null unless it failed. */
  reason: RunReason | null;
}

/** The registry's record of a run, with where to watch it. */
export function latestRunOf(run: RunRecord): LatestRun {
  return {
    id: run.id,
    execution_arn: run.execution_arn,
    operation: run.operation,
    status: run.status,
    started_at: run.started_at,
    ended_at: run.ended_at,
    console_url: consoleUrlFor(run.execution_arn),
    reason: run.reason,
  };
}
