/**
 * Human output: short lines and tables for a person at a terminal. Every record is a ✓ or a ✗
 * with what DNS holds and what SES expects. Fields are read defensively: a stack deployed from
 * another version may say more or less.
 */
import type { ApiError } from './errors.js';

/** The API's vocabulary, as a client reads it (every field may be absent). */
export interface RunView {
  id?: string;
  execution_arn?: string;
  operation?: string;
  status?: string;
  started_at?: string;
  ended_at?: string | null;
  console_url?: string;
  reason?: { code?: string; message?: string; retryable?: boolean } | null;
}

export interface RecordView {
  type?: string;
  name?: string;
  value?: string;
}

export interface ProbeView {
  name?: string;
  type?: string;
  status?: string;
  expected?: string;
  value?: string;
  found?: string | null;
  detail?: string | null;
}

export interface IdentityView {
  identity?: string;
  identity_type?: string;
  status?: string;
  dkim_status?: string | null;
  records?: RecordView[];
  probe?: ProbeView[];
  latest_run?: RunView | null;
  managed?: boolean;
  updated_at?: string | null;
  checked_at?: string | null;
  ses?: {
    verified_for_sending?: boolean;
    verification_info?: { error_type?: string | null } | null;
  } | null;
}

export interface CheckView {
  identity?: string;
  status?: string;
  dkim_status?: string | null;
  records?: ProbeView[];
  woke_run?: boolean;
  checked_at?: string;
}

export interface StartedView {
  id?: string;
  identity?: string;
  identity_type?: string;
  status?: string;
  execution_arn?: string;
  repeated?: boolean;
  operation?: string;
  signing_attributes_origin?: string;
}

export interface ListItemView {
  identity?: string;
  identity_type?: string;
  status?: string;
  dkim_status?: string | null;
  updated_at?: string;
  latest_run?: RunView | null;
}

export interface DeliveredEventView {
  id?: string;
  time?: string;
  'detail-type'?: string;
  source?: string;
  detail?: {
    identity?: string;
    reason?: { code?: string; message?: string } | null;
    [field: string]: unknown;
  };
}

/** A long value (a BYODKIM TXT record's key) cut in the middle; --json has it whole. */
export function shorten(value: string, limit = 72): string {
  if (value.length <= limit) return value;
  return `${value.slice(0, limit - 20)}…${value.slice(-16)} (${value.length} characters)`;
}

/** `2026-11-23 10:01:03Z`: an instant on one short line. */
export function when(instant: string | null | undefined): string {
  if (!instant) return '-';
  const date = new Date(instant);
  return Number.isNaN(date.getTime())
    ? instant
    : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, [...cell].length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) =>
        index === row.length - 1
          ? cell
          : cell.padEnd((widths[index] ?? 0) + cell.length - [...cell].length),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** One record: ✓ with what was found, ✗ with what was found and what is expected, ? unchecked. */
export function recordLines(record: ProbeView): string[] {
  const head = `${record.type ?? '?'} ${record.name ?? '?'}`;
  const expected = record.expected ?? record.value ?? '';
  const pad = ' '.repeat(4);
  if (record.status === undefined) {
    return [`  ? ${head}`, `${pad}expected ${shorten(expected)}`];
  }
  if (record.status === 'OK') {
    return [`  ✓ ${head}`, `${pad}found    ${shorten(record.found ?? expected)}`];
  }
  return [
    `  ✗ ${head}  ${record.status}${record.detail ? `: ${record.detail}` : ''}`,
    `${pad}found    ${record.found == null ? 'nothing' : shorten(record.found)}`,
    `${pad}expected ${shorten(expected)}`,
  ];
}

/** The records SES needs, each with our latest look at it (matched by type and name). */
function recordsWithProbe(view: IdentityView): ProbeView[] {
  const probes = view.probe ?? [];
  const key = (type?: string, name?: string) => `${type ?? ''} ${(name ?? '').toLowerCase()}`;
  const byKey = new Map(probes.map((probe) => [key(probe.type, probe.name), probe]));
  const records = view.records ?? [];
  if (records.length === 0) return probes;
  return records.map((record) => {
    const probe = byKey.get(key(record.type, record.name));
    return probe === undefined
      ? { type: record.type, name: record.name, expected: record.value ?? '' }
      : { ...probe, expected: probe.expected ?? record.value ?? '' };
  });
}

function runLines(run: RunView | null | undefined): string[] {
  if (!run) return ['  run      none (the stack does not manage it)'];
  const span = run.ended_at
    ? `${when(run.started_at)} → ${when(run.ended_at)}`
    : `since ${when(run.started_at)}`;
  const lines = [
    `  run      ${run.id ?? '?'}  ${run.operation ?? ''}  ${run.status ?? '?'}  ${span}`,
  ];
  if (run.reason) {
    const retry =
      run.reason.retryable === undefined
        ? ''
        : run.reason.retryable
          ? ' (may be retried)'
          : ' (retrying will not help)';
    lines.push(`  reason   ${run.reason.code ?? '?'}: ${run.reason.message ?? ''}${retry}`);
  }
  if (run.console_url) lines.push(`  console  ${run.console_url}`);
  return lines;
}

/** `status <identity>`. */
export function formatStatus(view: IdentityView): string[] {
  const dkim = view.dkim_status ? `  DKIM ${view.dkim_status}` : '';
  const lines = [
    `${view.identity ?? '?'}  ${view.identity_type ?? ''}  ${view.status ?? '?'}${dkim}`,
  ];
  lines.push(...runLines(view.latest_run));
  const errorType = view.ses?.verification_info?.error_type;
  if (errorType) lines.push(`  SES      ${errorType}`);
  const records = recordsWithProbe(view);
  if (records.length > 0) {
    const looked = (view.probe ?? []).length > 0;
    // A run verified by SES's word alone (a sweep saw SUCCESS) leaves no look of ours: say so
    // rather than draw a ✓ nobody saw.
    lines.push(
      looked
        ? `  records  as DNS held them at ${when(view.checked_at)}`
        : view.dkim_status === 'SUCCESS'
          ? '  records  SES found them (DKIM SUCCESS); the stack has not looked itself (`check` looks now)'
          : '  records  not looked up by the stack yet (`check` looks now)',
    );
    for (const record of records) lines.push(...recordLines(record).map((line) => `  ${line}`));
  } else if (view.identity_type === 'EMAIL_ADDRESS') {
    lines.push('  records  none: an address is verified by the link SES mails to it');
  }
  return lines;
}

/** True when every record is there with the right value. */
export function allRecordsRight(records: ProbeView[]): boolean {
  return records.every((record) => record.status === 'OK');
}

/** `check <identity>`. */
export function formatCheck(view: CheckView): string[] {
  const records = view.records ?? [];
  const right = records.filter((record) => record.status === 'OK').length;
  const dkim = view.dkim_status ? `  DKIM ${view.dkim_status}` : '';
  const lines = [
    `${view.identity ?? '?'}  ${view.status ?? '?'}${dkim}  checked ${when(view.checked_at)}: ${right} of ${records.length} record(s) right`,
  ];
  if (records.length === 0) {
    lines.push(
      view.identity?.includes('@')
        ? '  no DNS records: an address is verified by the link SES mails to it'
        : '  no DKIM records known yet: the run has not derived them',
    );
  }
  for (const record of records)
    lines.push(...recordLines({ ...record, expected: record.value ?? '' }));
  lines.push(
    view.woke_run
      ? 'Woke the waiting run: it asks SES now.'
      : 'No run was waiting on this identity.',
  );
  return lines;
}

/** `start` and `change-dkim`: what was started, or that an identical request had started it. */
export function formatStarted(view: StartedView): string[] {
  const what =
    view.operation === 'ChangeDkimSigning'
      ? `DKIM change of ${view.identity ?? '?'} to ${view.signing_attributes_origin ?? '?'}`
      : `verification of ${view.identity ?? '?'} (${view.identity_type ?? '?'})`;
  const head = view.repeated
    ? `An identical request already started the ${what}: nothing new started.`
    : `Started the ${what}.`;
  return [
    head,
    `  run        ${view.id ?? '?'}  ${view.status ?? ''}`,
    `  execution  ${view.execution_arn ?? '?'}`,
  ];
}

/** `list`: one row per identity. */
export function formatList(items: ListItemView[], nextToken: string | null): string[] {
  if (items.length === 0) return ['No identities.'];
  const rows = [
    ['IDENTITY', 'TYPE', 'STATUS', 'DKIM', 'UPDATED', 'LATEST RUN'],
    ...items.map((item) => [
      item.identity ?? '?',
      item.identity_type ?? '',
      item.status ?? '',
      item.dkim_status ?? '-',
      when(item.updated_at),
      item.latest_run
        ? `${item.latest_run.status ?? ''}${item.latest_run.reason?.code ? ` ${item.latest_run.reason.code}` : ''}`
        : '-',
    ]),
  ];
  const lines = table(rows);
  lines.push(
    nextToken === null
      ? `${items.length} identit${items.length === 1 ? 'y' : 'ies'}.`
      : `${items.length} shown; more remain (raise --limit to see them).`,
  );
  return lines;
}

/** `delete`: the 202's data, field by field. */
export function formatDeleted(identity: string, data: unknown): string[] {
  const lines = [
    `Deletion of ${identity} accepted: the stack stops its run, removes the DKIM records it published, deletes the SES identity and its registry item, and emits "Email Identity Deleted".`,
  ];
  if (typeof data === 'object' && data !== null) {
    for (const [field, value] of Object.entries(data)) {
      if (value === null || typeof value !== 'object')
        lines.push(`  ${field.padEnd(14)} ${String(value)}`);
    }
  }
  return lines;
}

/** `events`: one line per delivered event, a failure's reason under it. */
export function formatEvent(event: DeliveredEventView): string[] {
  const lines = [
    `${when(event.time)}  ${event['detail-type'] ?? '?'}  ${event.detail?.identity ?? ''}`.trimEnd(),
  ];
  const reason = event.detail?.reason;
  if (reason?.code) lines.push(`  ${reason.code}: ${reason.message ?? ''}`);
  return lines;
}

/** What went wrong with a request, for stderr: the code and message, each field problem, when to retry. */
export function formatApiError(error: ApiError, what: string): string[] {
  const lines = [`${what}: ${error.status} ${error.code}: ${error.message}`];
  for (const detail of error.details) lines.push(`  ${detail.field}: ${detail.message}`);
  if (error.status === 429) {
    lines.push(
      error.retryAfterSeconds === undefined
        ? '  Throttled: retry with backoff.'
        : `  Throttled: retry after ${error.retryAfterSeconds} s (Retry-After).`,
    );
  }
  // API Gateway's own 404 or 405 (no envelope): the route is not there, not the identity.
  if (error.code === 'HTTP_404' || error.code === 'HTTP_405') {
    lines.push(
      '  The API has no such route: the stack (or the sandbox) runs a version without it.',
    );
  }
  if (error.status === 403) {
    lines.push(
      '  API Gateway refused the request: check that the credentials the default chain finds (AWS_PROFILE, --profile) may call execute-api:Invoke on this API, and the Region it is signed for (--region).',
    );
  }
  return lines;
}
