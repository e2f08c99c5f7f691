/**
 * Human-readable progress of sandbox runs, for stderr: one line per step that does work (a Task
 * state: what it did, in words), none for the Choice and Pass states between them; a step's
 * failure with its error's message; what woke a waiting run; and, when a run ends, how, with the
 * failure's reason in words. Each line starts with the virtual time elapsed since its run began.
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

/** A JSON text as an object, or undefined. */
function parsed(text: unknown): Payload | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Payload) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a Task's work returned: a Lambda's Payload, or, for a step run by the SES request worker,
 * the output the worker sent back with the task's token.
 */
function taskPayload(event: HistoryEvent): Payload | undefined {
  const details = event.taskSucceededEventDetails as
    | { output?: string; resourceType?: string; resource?: string }
    | undefined;
  const output = parsed(details?.output);
  if (!output) return undefined;
  return details?.resourceType === 'lambda' && details.resource === 'invoke'
    ? (output.Payload as Payload | undefined)
    : output;
}

/** A queued CreateReplica or CheckReplica: one Region of a DEED identity. */
function isReplicaStep(scheduled: Payload | undefined): boolean {
  const step = (scheduled?.MessageBody as { step?: unknown } | undefined)?.step;
  return step === 'CreateReplica' || step === 'CheckReplica';
}

/** What CreateReplica and CheckReplica answer: a Region, its status and what happened there. */
function isReplicaCheck(
  payload: Payload,
): payload is Payload & { region: string; status: string; detail: string } {
  return (
    typeof payload.region === 'string' &&
    typeof payload.status === 'string' &&
    typeof payload.detail === 'string'
  );
}

/** An error's message in words: Lambda's `{errorType, errorMessage}` cause, or the cause as is. */
export function causeInWords(cause: unknown): string | undefined {
  if (typeof cause !== 'string' || cause === '') return undefined;
  const structured = parsed(cause);
  if (structured && typeof structured.errorMessage === 'string') return structured.errorMessage;
  return cause;
}

/** How progress names the parts of readiness. */
const PART_NAMES: Record<string, string> = {
  dkim: 'DKIM',
  mail_from: 'MAIL FROM',
  dmarc: 'DMARC',
  tenant: 'tenant',
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What a Task state did, from its output, in one line (and the records a person must add). */
function describeStep(state: string, payload: Payload, scheduled: Payload | undefined): string[] {
  switch (state) {
    case 'ClaimIdentity':
      return [
        `${payload.identity} claimed for this run (${payload.operation ?? 'CreateIdentity'})`,
      ];
    case 'CreateIdentity': {
      const dkim = payload.dkim as { origin?: string; selector?: string | null } | null;
      const how = dkim
        ? dkim.origin === 'EXTERNAL'
          ? `BYODKIM, selector ${dkim.selector}`
          : 'Easy DKIM'
        : 'verified by the link SES mails to it';
      return [
        `SES identity ${payload.identity} ${payload.adopted ? 'adopted' : 'created'} (${how})`,
      ];
    }
    case 'ConfigureSending': {
      const mailFrom = payload.mail_from as { domain?: string } | null | undefined;
      const tenant = payload.tenant as { name?: string; created?: boolean } | null | undefined;
      return [
        [
          mailFrom ? `MAIL FROM domain ${mailFrom.domain} set` : null,
          tenant ? `tenant ${tenant.name} ${tenant.created ? 'created and ' : ''}joined` : null,
        ]
          .filter(Boolean)
          .join('; '),
      ];
    }
    case 'PublishDnsRecords': {
      const records = (payload.records as { part?: string }[] | undefined) ?? [];
      const dmarc = payload.dmarc as { action?: string; value?: string } | null | undefined;
      const counts = ['dkim', 'mail_from', 'dmarc']
        .map((part) => [part, records.filter((r) => (r.part ?? 'dkim') === part).length] as const)
        .filter(([, count]) => count > 0)
        .map(([part, count]) => plural(count, `${PART_NAMES[part]} record`))
        .join(', ');
      const kept =
        dmarc?.action === 'EXISTING' ? [`    an existing DMARC record kept: ${dmarc.value}`] : [];
      if (payload.written) {
        return [
          `${counts} written to Route 53 zone ${payload.hosted_zone_name} (${payload.hosted_zone_id})`,
          ...kept,
        ];
      }
      // Nobody else will add them: the lines to paste.
      const lines = (payload.zone_file as string[] | undefined) ?? [];
      return [
        `${counts} to add by hand (${payload.provider}): ${payload.provider_reason}`,
        ...lines.map((line) => `    ${line}`),
        ...kept,
      ];
    }
    case 'CheckVerification': {
      const outcome = String(payload.outcome ?? '');
      // An address has no DKIM status until SES sees it confirmed.
      const dkim = payload.dkim_status ? `DKIM ${payload.dkim_status}, ` : '';
      const parts = Object.entries(
        (payload.readiness as Record<string, { status?: string }> | null | undefined) ?? {},
      )
        .filter(([name]) => name !== 'dkim')
        .map(([name, part]) => `${PART_NAMES[name] ?? name} ${part.status}, `)
        .join('');
      const base = `check ${payload.checks}: ${dkim}${parts}outcome ${outcome}`;
      if (outcome !== 'PENDING') return [base];
      const next = Number(payload.next_check_seconds ?? 0);
      return [
        `${base}; sleeps until SES changes or a person checks (own look in ${formatDuration(next * 1000)})`,
      ];
    }
    case 'PrepareDkimChange': {
      const identity = payload.identity as {
        change?: { kind?: string; to?: { origin?: string; selector?: string | null } };
      };
      const to = identity.change?.to;
      const how = to?.origin === 'EXTERNAL' ? `BYODKIM, selector ${to.selector}` : 'Easy DKIM';
      return [
        `${identity.change?.kind} to ${how}; ${
          payload.publish_first
            ? 'its record goes out before SES is switched'
            : 'SES names the new tokens when switched'
        }`,
      ];
    }
    case 'CheckNewRecords': {
      const probe = (payload.probe as { status?: string }[] | undefined) ?? [];
      const ok = probe.filter((result) => result.status === 'OK').length;
      const base = `look ${payload.checks}: ${ok} of ${plural(probe.length, 'new record')} in DNS, outcome ${payload.outcome}`;
      if (payload.outcome !== 'PENDING') return [base];
      return [
        `${base}; SES still signs as before (own look in ${formatDuration(Number(payload.next_check_seconds ?? 0) * 1000)})`,
      ];
    }
    case 'ChangeDkimSigning': {
      const dkim = payload.dkim as { origin?: string; selector?: string | null; status?: string };
      return [
        `SES switched to ${dkim.origin === 'EXTERNAL' ? `BYODKIM, selector ${dkim.selector}` : 'Easy DKIM'} (DKIM ${dkim.status})`,
      ];
    }
    case 'RollBackDkimSigning': {
      const rollback = payload.rollback as { same_tokens?: boolean } | undefined;
      return [
        `SES switched back to Easy DKIM (${rollback?.same_tokens ? 'its old tokens, whose CNAMEs never left DNS' : 'new tokens, to publish'})`,
      ];
    }
    case 'ScheduleStaleRecordRemoval':
      return ["the old signing's records stay for the grace period, then the remover deletes them"];
    case 'AwaitNewRecords':
    case 'AwaitVerification': {
      const by = payload.woken_by === 'check_now' ? 'a check-now request' : 'the sweeper';
      const ses = payload.ses_status ? ` (SES: ${payload.ses_status})` : '';
      return [`woken by ${by}${ses}`];
    }
    case 'RecordVerified':
      return ['the registry records the identity VERIFIED'];
    case 'RecordFailure':
      return ["the registry records the run's failure"];
    case 'DiscardKeySecret':
    case 'DiscardChangeKeySecret':
    case 'DiscardKeySecretAfterFailure':
      return ["the key's secret deleted"];
    case 'DescribeFailure': {
      const reason = payload.reason as { code?: string; message?: string } | undefined;
      return reason ? [`reason ${reason.code}: ${reason.message}`] : ['failure described'];
    }
    default: {
      // A direct events:putEvents Task: the detail-types it delivered.
      const entries = scheduled?.Entries as { DetailType?: string }[] | undefined;
      if (Array.isArray(entries) && payload.FailedEntryCount !== undefined) {
        return [`event ${entries.map((entry) => `"${entry.DetailType}"`).join(', ')} delivered`];
      }
      return ['done'];
    }
  }
}

/** How a run ended, in words: `verified`, or the failure's code and reason. */
export function describeEnd(execution: Execution): string {
  const after = `after ${formatDuration(
    (execution.stopDate ?? execution.startDate).getTime() - execution.startDate.getTime(),
  )}`;
  if (execution.status === 'SUCCEEDED') return `SUCCEEDED ${after}`;
  const reason = causeInWords(execution.cause);
  return `${execution.status} ${after}${execution.error ? `: ${execution.error}` : ''}${reason ? ` - ${reason}` : ''}`;
}

export interface ProgressOptions {
  /** Prints one line. */
  write: (line: string) => void;
  /** Only these executions. */
  only?: (execution: Execution) => boolean;
  /** A prefix for each line (the run's name, where several runs print at once). */
  label?: (execution: Execution) => string;
  /** A line when a run starts and one when it ends (the CLI prints its own end). */
  startAndEnd?: boolean;
}

/**
 * Follows executions' histories and prints them; returns a function that stops printing.
 * `subscribe` is the state machine's: it calls back with every history event as it is recorded.
 */
export function printProgress(
  subscribe: (listener: (execution: Execution, event: HistoryEvent) => void) => () => void,
  options: ProgressOptions,
): () => void {
  const runs = new Map<
    string,
    { state: string; scheduled: Payload | undefined; attempts: number; failure?: string }
  >();
  return subscribe((execution, event) => {
    if (options.only && !options.only(execution)) return;
    const run = runs.get(execution.executionArn) ?? {
      state: '',
      scheduled: undefined,
      attempts: 0,
    };
    runs.set(execution.executionArn, run);
    const at = `[+${formatDuration(event.timestamp.getTime() - execution.startDate.getTime())}]`;
    const prefix = options.label ? `${options.label(execution)} ` : '';
    const say = (text: string) => options.write(`${prefix}${at} ${text}`);

    if (event.type.endsWith('StateEntered')) {
      run.state = (event.stateEnteredEventDetails as { name: string }).name;
      run.attempts = 0;
      return;
    }
    switch (event.type) {
      case 'ExecutionStarted': {
        if (!options.startAndEnd) return;
        const input = parsed((event.executionStartedEventDetails as { input?: string }).input);
        say(`started for ${input?.EmailIdentity ?? 'an input with no EmailIdentity'}`);
        return;
      }
      case 'TaskScheduled':
        run.scheduled = parsed(
          (event.taskScheduledEventDetails as { parameters?: string } | undefined)?.parameters,
        );
        // A replica's steps run in the iterations of a Map, side by side: the state a history
        // names last is not theirs, and two iterations are not two attempts.
        if (isReplicaStep(run.scheduled)) return;
        run.attempts += 1;
        if (run.attempts > 1) say(`${run.state}: attempt ${run.attempts} after ${run.failure}`);
        return;
      case 'TaskSucceeded': {
        const payload = taskPayload(event);
        if (!payload) return;
        if (isReplicaCheck(payload)) {
          say(
            `Replica in ${payload.region}: ${payload.status}${payload.status === 'PENDING' ? ` (next look in ${formatDuration(Number(payload.next_check_seconds) * 1000)})` : ''}: ${payload.detail}`,
          );
          return;
        }
        const [first, ...rest] = describeStep(run.state, payload, run.scheduled);
        say(`${run.state}: ${first}`);
        for (const line of rest) options.write(`${prefix}${line}`);
        return;
      }
      case 'TaskFailed': {
        const details = event.taskFailedEventDetails as { error?: string; cause?: string };
        run.failure = details.error ?? 'an error';
        const words = causeInWords(details.cause);
        say(
          `${run.state} failed: ${details.error ?? 'unknown error'}${words ? ` - ${words}` : ''}`,
        );
        return;
      }
      case 'TaskTimedOut':
        run.failure = 'a time-out';
        say(
          run.state === 'AwaitVerification'
            ? `${run.state}: nobody woke the run, its own look is due`
            : `${run.state} timed out`,
        );
        return;
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionTimedOut':
      case 'ExecutionAborted':
        runs.delete(execution.executionArn);
        // The event says how it ended: the execution's own status is set just after it.
        if (options.startAndEnd) say(describeEnd({ ...execution, ...endOf(event) }));
        return;
      default:
        return;
    }
  });
}

/** The status, error and cause an end-of-execution event records. */
function endOf(event: HistoryEvent): Partial<Execution> {
  const stopDate = event.timestamp;
  switch (event.type) {
    case 'ExecutionSucceeded':
      return { status: 'SUCCEEDED', stopDate };
    case 'ExecutionFailed': {
      const details = event.executionFailedEventDetails as { error?: string; cause?: string };
      return { status: 'FAILED', stopDate, error: details.error, cause: details.cause };
    }
    case 'ExecutionTimedOut':
      return { status: 'TIMED_OUT', stopDate, error: 'States.Timeout' };
    default: {
      const details = event.executionAbortedEventDetails as { error?: string; cause?: string };
      return { status: 'ABORTED', stopDate, error: details?.error, cause: details?.cause };
    }
  }
}

/**
 * What a person needs when they stop the sandbox: how many runs and how each ended, the ones
 * still running and where, the events delivered.
 */
export function summarizeRuns(
  executions: Execution[],
  events: { 'detail-type': string }[],
  now: Date,
  limit = 20,
): string[] {
  const count = (status: string) =>
    executions.filter((execution) => execution.status === status).length;
  const statuses = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'RUNNING']
    .map((status) => [status, count(status)] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status.toLowerCase().replace('_', ' ')}`);
  const lines = [
    `Runs: ${executions.length}${statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}`,
  ];
  // Oldest first, as they were started.
  for (const execution of [...executions].reverse().slice(0, limit)) {
    const identity = parsed(execution.input)?.EmailIdentity ?? '?';
    if (execution.status === 'RUNNING') {
      const entered = execution.history.filter((event) => event.type.endsWith('StateEntered'));
      const state = (entered.at(-1)?.stateEnteredEventDetails as { name?: string } | undefined)
        ?.name;
      lines.push(
        `  ${execution.name}  ${identity}  RUNNING for ${formatDuration(now.getTime() - execution.startDate.getTime())}, in ${state ?? 'no state yet'}`,
      );
    } else {
      lines.push(`  ${execution.name}  ${identity}  ${describeEnd(execution)}`);
    }
  }
  if (executions.length > limit) lines.push(`  ... and ${executions.length - limit} more`);
  const byType = new Map<string, number>();
  for (const event of events) {
    byType.set(event['detail-type'], (byType.get(event['detail-type']) ?? 0) + 1);
  }
  lines.push(
    `Events delivered: ${events.length}${
      byType.size > 0 ? ` (${[...byType].map(([type, n]) => `${n} "${type}"`).join(', ')})` : ''
    }`,
  );
  return lines;
}
