/**
 * Human-readable progress of a sandbox run, for stderr: each state entered, the DKIM records and
 * where they went, SES's DKIM status at each check, what woke a waiting run, and the virtual
 * time elapsed.
 */
import type { Execution, HistoryEvent } from '#sandbox/engine/executions.js';

/** `3d 04:05:06` of virtual time. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(total / 86_400);
  const clock = [Math.floor((total % 86_400) / 3600), Math.floor((total % 3600) / 60), total % 60]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  return days > 0 ? `${days}d ${clock}` : clock;
}

interface Payload {
  [field: string]: unknown;
}

/**
 * What a Task's work returned: a Lambda's Payload, or, for a step run by the SES request worker,
 * the output the worker sent back with the task's token.
 */
function taskPayload(event: HistoryEvent): Payload | undefined {
  const details = event.taskSucceededEventDetails as
    | { output?: string; resourceType?: string; resource?: string }
    | undefined;
  if (!details?.output) return undefined;
  const output = JSON.parse(details.output) as Payload | null;
  if (output === null || typeof output !== 'object') return undefined;
  return details.resourceType === 'lambda' && details.resource === 'invoke'
    ? (output.Payload as Payload | undefined)
    : output;
}

/**
 * Lines describing one history event, or none. `stateOf` tells which state a Task event belongs
 * to (history events of a task do not carry the state's name).
 */
export function describeEvent(execution: Execution, event: HistoryEvent, state: string): string[] {
  const at = `[+${formatDuration(event.timestamp.getTime() - execution.startDate.getTime())}]`;
  if (event.type.endsWith('StateEntered')) {
    const name = (event.stateEnteredEventDetails as { name: string }).name;
    return [`${at} ${name}`];
  }
  if (event.type === 'TaskFailed') {
    const details = event.taskFailedEventDetails as { error?: string };
    return [`${at}   ${state} failed: ${details.error ?? 'unknown error'}`];
  }
  if (event.type === 'TaskTimedOut') {
    return state === 'AwaitVerification'
      ? [`${at}   nobody woke the run: its own look is due`]
      : [`${at}   ${state} timed out`];
  }
  if (event.type !== 'TaskSucceeded') return [];
  const payload = taskPayload(event);
  if (!payload) return [];
  if (state === 'CreateIdentity') {
    const dkim = payload.dkim as { origin?: string; selector?: string | null } | null;
    const how = dkim
      ? dkim.origin === 'EXTERNAL'
        ? `BYODKIM, selector ${dkim.selector}`
        : 'Easy DKIM'
      : 'verification by email link';
    return [
      `${at}   SES identity ${payload.identity} ${payload.adopted ? 'adopted' : 'created'} (${how})`,
    ];
  }
  if (state === 'PublishDnsRecords') {
    const records = (payload.records as { type: string; name: string; value: string }[]) ?? [];
    const where = payload.written
      ? `written to Route 53 zone ${payload.hosted_zone_name} (${payload.hosted_zone_id})`
      : `not written (${payload.provider}): ${payload.provider_reason}`;
    return [
      `${at}   ${records.length} DKIM record(s) ${where}`,
      ...records.map(
        (record) => `${at}     ${record.type} ${record.name} -> ${abbreviate(record.value)}`,
      ),
    ];
  }
  if (state === 'CheckVerification') {
    const next = Number(payload.next_check_seconds ?? 0);
    return [
      `${at}   check ${payload.checks}: DKIM ${payload.dkim_status ?? 'n/a'}, outcome ${payload.outcome}` +
        (payload.outcome === 'PENDING'
          ? `; waits to be woken, or looks again in ${formatDuration(next * 1000)}`
          : ''),
    ];
  }
  if (state === 'AwaitVerification') {
    const by = payload.woken_by === 'check_now' ? 'a check-now request' : 'the sweeper';
    const ses = payload.ses_status ? ` (SES: ${payload.ses_status})` : '';
    return [`${at}   woken by ${by}${ses}`];
  }
  return [];
}

function abbreviate(value: string): string {
  return value.length > 72 ? `${value.slice(0, 60)}...(${value.length} chars)` : value;
}

/** Follows an execution's history and prints it; returns a function that stops printing. */
export function printProgress(
  subscribe: (listener: (execution: Execution, event: HistoryEvent) => void) => () => void,
  write: (line: string) => void,
  only?: (execution: Execution) => boolean,
  label?: (execution: Execution) => string,
): () => void {
  const currentState = new Map<string, string>();
  return subscribe((execution, event) => {
    if (only && !only(execution)) return;
    if (event.type.endsWith('StateEntered')) {
      currentState.set(
        execution.executionArn,
        (event.stateEnteredEventDetails as { name: string }).name,
      );
    }
    const state = currentState.get(execution.executionArn) ?? '';
    const prefix = label ? `${label(execution)} ` : '';
    for (const line of describeEvent(execution, event, state)) write(`${prefix}${line}`);
  });
}
