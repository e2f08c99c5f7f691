/**
 * The local console: the identities the registry holds (status, DKIM, each record found or not,
 * "Check now"), the runs with the state machine drawn from its ASL and the selected run's
 * history, the events delivered and the sandbox mailbox. It polls the sandbox once a second:
 * the list and sandbox routes read the registry and the sandbox's own records, never SES, so
 * polling spends none of SES's request budget (an identity's live SES view is read only when a
 * person selects it or checks it).
 */

import { type AslDefinition, type GraphLayout, layoutStateMachine } from '../graph-layout.js';
import type { ExecutionSummary, ExecutionView } from '../views.js';
import { badge, duration, fill, h, jsonBlock, timeOf } from './dom.js';
import { drawGraph } from './graph-view.js';

const POLL_MS = 1000;
/** The newest runs and events the page lists (and polls for). */
const LIST_LIMIT = 100;

interface IdentityItem {
  identity: string;
  identity_type: string;
  status: string;
  dkim_status: string | null;
  updated_at: string;
  latest_run: { id: string; status: string } | null;
}

interface RecordCheck {
  name: string;
  type: string;
  /** What the record should hold. */
  value: string;
  status: string | null;
  found: string | null;
  detail: string | null;
}

interface IdentityDetail {
  identity: string;
  identity_type: string;
  status: string;
  dkim_status: string | null;
  ses: { verification_status?: string; verified_for_sending?: boolean } | null;
  records: { name: string; type: string; value: string }[];
  probe: {
    name: string;
    type: string;
    expected: string;
    status: string;
    found: string | null;
    detail: string | null;
  }[];
  latest_run: {
    id: string;
    status: string;
    reason: { code: string; message: string } | null;
  } | null;
  checked_at: string | null;
}

interface CheckResult {
  identity: string;
  status: string;
  dkim_status: string | null;
  records: RecordCheck[];
  woke_run: boolean;
  checked_at: string;
}

interface DeliveredEvent {
  id: string;
  time: string;
  'detail-type': string;
  detail: Record<string, unknown> & { identity?: string; execution_id?: string };
}

interface MailboxMessage {
  id: string;
  to: string;
  subject: string;
  confirmationUrl: string;
  sentAt: string;
}

const state = {
  layout: undefined as GraphLayout | undefined,
  identities: [] as IdentityItem[],
  moreIdentities: false,
  moreExecutions: 0,
  executions: [] as ExecutionSummary[],
  events: [] as DeliveredEvent[],
  mailbox: [] as MailboxMessage[],
  selectedIdentity: undefined as string | undefined,
  detail: undefined as IdentityDetail | undefined,
  checks: new Map<string, CheckResult>(),
  checking: new Set<string>(),
  /** Mailbox messages whose link a person followed, with what following it did. */
  followed: new Map<string, string>(),
  selectedRun: undefined as string | undefined,
  /** A run chosen by a person: the newest run is no longer followed on its own. */
  pinnedRun: false,
  run: undefined as ExecutionView | undefined,
  open: new Set<string>(),
  /** What each section was last drawn from, to skip drawing what did not change. */
  drawn: new Map<string, string>(),
};

const $ = (id: string) => document.getElementById(id) as HTMLElement;

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Draws a section only when what it shows changed. */
function changed(section: string, data: unknown): boolean {
  const text = JSON.stringify(data);
  if (state.drawn.get(section) === text) return false;
  state.drawn.set(section, text);
  return true;
}

/** A row a person selects with the mouse, or with the keyboard (Tab, then Enter or Space). */
function onActivate(row: HTMLElement, select: () => void): void {
  row.tabIndex = 0;
  row.addEventListener('click', select);
  row.addEventListener('keydown', (event) => {
    if (event.target !== row || (event.key !== 'Enter' && event.key !== ' ')) return;
    event.preventDefault();
    select();
  });
}

// ---- identities -------------------------------------------------------------------------

function drawIdentities(): void {
  if (
    !changed('identities', [
      state.identities,
      state.moreIdentities,
      state.selectedIdentity,
      [...state.checking],
    ])
  ) {
    return;
  }
  const rows = state.identities.map((item) => {
    const check = h(
      'button',
      { type: 'button', class: 'check-now', 'data-identity': item.identity },
      state.checking.has(item.identity) ? 'Checking…' : 'Check now',
    );
    check.disabled = state.checking.has(item.identity);
    check.addEventListener('click', (event) => {
      event.stopPropagation();
      void checkNow(item.identity);
    });
    const row = h(
      'tr',
      {
        class: `selectable${item.identity === state.selectedIdentity ? ' selected' : ''}`,
        'data-identity': item.identity,
        'data-status': item.status,
      },
      h(
        'td',
        {},
        h('span', { class: 'identity-name' }, item.identity),
        h('br'),
        h('span', { class: 'note' }, item.identity_type),
      ),
      h('td', { class: 'status' }, badge(item.status)),
      h('td', { class: 'dkim' }, badge(item.dkim_status)),
      h('td', { class: 'note' }, timeOf(item.updated_at)),
      h('td', {}, check),
    );
    onActivate(row, () => selectIdentity(item.identity, true));
    return row;
  });
  if (state.moreIdentities) {
    rows.push(
      h(
        'tr',
        {},
        h(
          'td',
          { colspan: '5', class: 'note' },
          'The first 100 by name: GET /identities pages the rest.',
        ),
      ),
    );
  }
  fill(
    $('identities').querySelector('tbody') as HTMLElement,
    rows.length > 0
      ? rows
      : h(
          'tr',
          {},
          h('td', { colspan: '5', class: 'note' }, 'No identity yet: start a run above.'),
        ),
  );
}

function recordRows(
  detail: IdentityDetail | undefined,
  check: CheckResult | undefined,
): RecordCheck[] {
  // The newer look wins: a person's check, or the registry's latest probe (a run's own look;
  // one that asked SES only leaves no probe, and then the person's check stands).
  const probe = detail?.probe ?? [];
  const probeIsNewer =
    !check || (detail?.checked_at != null && detail.checked_at > check.checked_at);
  if (probe.length > 0 && probeIsNewer) {
    return probe.map((result) => ({
      name: result.name,
      type: result.type,
      value: result.expected,
      status: result.status,
      found: result.found,
      detail: result.detail,
    }));
  }
  if (check) return check.records;
  if (!detail) return [];
  return detail.records.map((record) => ({ ...record, status: null, found: null, detail: null }));
}

function drawIdentityDetail(): void {
  const identity = state.selectedIdentity;
  const detail = state.detail?.identity === identity ? state.detail : undefined;
  const check = identity ? state.checks.get(identity) : undefined;
  if (!changed('identity-detail', [identity, detail, check])) return;
  const container = $('identity-detail');
  if (!identity) {
    fill(container);
    return;
  }
  const records = recordRows(detail, check);
  const table = h(
    'table',
    { class: 'list records' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}),
        h('th', {}, 'Record'),
        h('th', {}, 'Expected'),
        h('th', {}, 'Found'),
      ),
    ),
    h(
      'tbody',
      {},
      records.map((record) => {
        const ok = record.status === 'OK';
        const mark = record.status === null ? '?' : ok ? '✓' : '✗';
        const found =
          record.status === null
            ? `not checked yet${detail?.dkim_status ? ` (SES's DKIM status: ${detail.dkim_status})` : ''}`
            : ok
              ? (record.found ?? record.value)
              : (record.found ?? record.detail ?? 'nothing');
        return h(
          'tr',
          { 'data-record': record.name, 'data-check': record.status ?? 'UNKNOWN' },
          h(
            'td',
            {
              class: `mark ${record.status === null ? 'unknown' : ok ? 'ok' : 'bad'}`,
              title: record.status ?? 'not checked',
            },
            mark,
          ),
          h('td', {}, h('span', { class: 'value' }, `${record.type} ${record.name}`)),
          h('td', {}, h('span', { class: 'value' }, record.value)),
          h(
            'td',
            {},
            h('span', { class: 'value' }, found),
            record.status && !ok
              ? h('div', {}, badge(record.status), ' ', record.detail ?? '')
              : null,
          ),
        );
      }),
    ),
  );
  const checkNote = check
    ? `Checked at ${timeOf(check.checked_at)} (virtual): ${check.woke_run ? 'woke the waiting run, which asks SES now' : 'no run was waiting'}.`
    : detail?.checked_at
      ? `Last probe at ${timeOf(detail.checked_at)} (virtual).`
      : '';
  const reason = detail?.latest_run?.reason;
  fill(
    container,
    h('h3', {}, identity),
    detail
      ? h(
          'p',
          {},
          'Status ',
          badge(detail.status),
          ' DKIM ',
          badge(detail.dkim_status),
          ' SES ',
          detail.ses
            ? badge(detail.ses.verification_status ?? null)
            : h(
                'span',
                { class: 'note', title: 'SES did not answer this look (its request rate)' },
                'not read',
              ),
          detail.ses?.verified_for_sending ? ' verified for sending' : '',
        )
      : h('p', { class: 'note' }, 'Loading…'),
    reason ? h('p', { class: 'reason' }, `${reason.code}: ${reason.message}`) : null,
    records.length > 0
      ? table
      : h('p', { class: 'note' }, 'No DKIM records (an address is verified by its mailbox link).'),
    checkNote ? h('p', { class: 'note check-note' }, checkNote) : null,
  );
}

async function loadIdentityDetail(identity: string): Promise<void> {
  try {
    const body = await getJson<{ data: IdentityDetail }>(
      `/identities/${encodeURIComponent(identity)}`,
    );
    if (state.selectedIdentity === identity) state.detail = body.data;
  } catch {
    // The list still shows it; the next selection tries again.
  }
  drawIdentityDetail();
}

function selectIdentity(identity: string, byPerson: boolean): void {
  const item = state.identities.find((candidate) => candidate.identity === identity);
  state.selectedIdentity = identity;
  if (byPerson && item?.latest_run) {
    pinRun(item.latest_run.id);
    void refreshRun();
  }
  drawIdentities();
  drawIdentityDetail();
  void loadIdentityDetail(identity);
}

/** POST /identities/{identity}/check: looks at DNS now and wakes the waiting run. */
async function checkNow(identity: string): Promise<void> {
  state.checking.add(identity);
  selectIdentity(identity, false);
  try {
    const response = await fetch(`/identities/${encodeURIComponent(identity)}/check`, {
      method: 'POST',
    });
    const body = (await response.json()) as { data?: CheckResult; error?: { message: string } };
    if (body.data) state.checks.set(identity, body.data);
    else setConnection(`Check now: ${body.error?.message ?? `HTTP ${response.status}`}`);
  } catch (error) {
    setConnection(`Check now failed: ${(error as Error).message}`);
  } finally {
    state.checking.delete(identity);
  }
  drawIdentities();
  drawIdentityDetail();
  await loadIdentityDetail(identity);
}

// ---- runs -------------------------------------------------------------------------------

function drawRuns(): void {
  if (!changed('runs', [state.executions, state.moreExecutions, state.selectedRun])) return;
  const rows = state.executions.map((run) => {
    const row = h(
      'tr',
      {
        class: `selectable${run.name === state.selectedRun ? ' selected' : ''}`,
        'data-run': run.name,
        'data-status': run.status,
      },
      h(
        'td',
        {},
        h('span', { class: 'run-name' }, run.name),
        h('br'),
        h('span', { class: 'note' }, run.identity ?? ''),
      ),
      h('td', {}, badge(run.status)),
      h('td', {}, run.current_state ?? ''),
      h('td', { class: 'elapsed' }, duration(run.elapsed_seconds)),
    );
    onActivate(row, () => {
      pinRun(run.name);
      drawRuns();
      void refreshRun();
    });
    return row;
  });
  if (state.moreExecutions > 0) {
    rows.push(
      h(
        'tr',
        {},
        h('td', { colspan: '4', class: 'note' }, `and ${state.moreExecutions} older runs`),
      ),
    );
  }
  fill(
    $('runs').querySelector('tbody') as HTMLElement,
    rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: '4', class: 'note' }, 'No run yet.')),
  );
}

/** A failed run's reason: the Fail state's error (the reason code) and cause (in words). */
function failureReasonOf(run: ExecutionView | undefined): string | undefined {
  if (!run || run.status === 'SUCCEEDED' || run.status === 'RUNNING' || !run.error)
    return undefined;
  return run.cause ? `${run.error}: ${run.cause}` : run.error;
}

function drawRun(): void {
  const run = state.run;
  if (!changed('run', [run, state.layout !== undefined])) return;
  if (!run) return;
  $('run-title').textContent = `Run ${run.name}`;
  const reason = failureReasonOf(run);
  fill(
    $('run-summary'),
    h(
      'dl',
      { 'data-run': run.name, 'data-status': run.status },
      h('dt', {}, 'Identity'),
      h('dd', {}, run.identity ?? '—'),
      h('dt', {}, 'Status'),
      h(
        'dd',
        {},
        badge(run.status),
        ' ',
        run.operation === 'CreateIdentity' ? 'a new identity' : 'a DKIM change',
      ),
      h('dt', {}, run.status === 'RUNNING' ? 'Current state' : 'Last state'),
      h('dd', { class: 'current-state' }, run.current_state ?? '—'),
      h('dt', {}, 'Started'),
      h('dd', {}, `${run.start_date.replace('T', ' ').slice(0, 19)} UTC (virtual)`),
      h('dt', {}, 'Virtual time'),
      h(
        'dd',
        { class: 'elapsed' },
        `${duration(run.elapsed_seconds)}${run.status === 'RUNNING' ? ' so far' : ''}`,
      ),
      run.error ? h('dt', {}, 'Error') : null,
      run.error ? h('dd', {}, run.error) : null,
    ),
    reason ? h('p', { class: 'reason' }, reason) : null,
  );
  if (state.layout) fill($('graph'), drawGraph(state.layout, run));
  const rows = run.events.map((event) => {
    const blocks = [
      event.input !== undefined
        ? jsonBlock('input', event.input, `${run.name}/${event.id}/input`, state.open)
        : null,
      event.parameters !== undefined
        ? jsonBlock(
            'parameters',
            event.parameters,
            `${run.name}/${event.id}/parameters`,
            state.open,
          )
        : null,
      event.output !== undefined
        ? jsonBlock('output', event.output, `${run.name}/${event.id}/output`, state.open)
        : null,
      event.cause !== undefined
        ? jsonBlock(
            `error ${event.error ?? ''}`,
            event.cause,
            `${run.name}/${event.id}/cause`,
            state.open,
          )
        : null,
    ];
    const failure = /Failed|TimedOut|Aborted/.test(event.type);
    return h(
      'tr',
      { class: failure ? 'failure' : undefined, 'data-event': event.type },
      h('td', {}, String(event.id)),
      h('td', {}, event.type),
      h('td', {}, event.state ?? ''),
      h('td', {}, `+${duration(event.elapsed_seconds)}`),
      h('td', {}, blocks),
    );
  });
  fill($('history').querySelector('tbody') as HTMLElement, rows);
}

/**
 * Follows one run rather than the newest, and says so in the address (`#run=<name>`), so that a
 * link to the console can open on a run.
 */
function pinRun(name: string): void {
  state.selectedRun = name;
  state.pinnedRun = true;
  history.replaceState(null, '', `#run=${encodeURIComponent(name)}`);
}

async function refreshRun(): Promise<void> {
  const name = state.selectedRun;
  if (!name) return;
  try {
    const body = await getJson<{ execution: ExecutionView }>(
      `/sandbox/executions/${encodeURIComponent(name)}`,
    );
    if (state.selectedRun === name) state.run = body.execution;
  } catch {
    return;
  }
  drawRun();
}

// ---- events and mailbox -----------------------------------------------------------------

function drawEvents(): void {
  const latest = state.events.slice(-50).reverse();
  if (!changed('events', latest)) return;
  fill(
    $('events'),
    latest.length > 0
      ? latest.map((event) =>
          h(
            'li',
            { 'data-detail-type': event['detail-type'] },
            h('span', { class: 'when' }, timeOf(event.time)),
            h('strong', {}, event['detail-type']),
            ' ',
            event.detail.identity ?? '',
            jsonBlock('detail', event.detail, `event/${event.id}`, state.open),
          ),
        )
      : h('li', { class: 'note' }, 'No event yet.'),
  );
}

function drawMailbox(): void {
  if (!changed('mailbox', state.mailbox)) return;
  fill(
    $('mailbox'),
    state.mailbox.length > 0
      ? state.mailbox
          .slice()
          .reverse()
          .map((message) => {
            const followed = state.followed.get(message.id);
            const follow = h(
              'button',
              { type: 'button', class: 'follow-link' },
              followed ?? 'Follow the link',
            );
            follow.disabled = followed !== undefined;
            follow.addEventListener('click', async () => {
              follow.disabled = true;
              // The link points at the sandbox's API: follow it on this page's origin.
              const response = await fetch(new URL(message.confirmationUrl).pathname);
              const result = (await response.json()) as { status?: string };
              state.followed.set(message.id, result.status ?? `HTTP ${response.status}`);
              state.drawn.delete('mailbox');
              drawMailbox();
            });
            return h(
              'li',
              { 'data-to': message.to },
              h('span', { class: 'when' }, timeOf(message.sentAt)),
              h('strong', {}, message.to),
              ' ',
              message.subject,
              ' ',
              follow,
            );
          })
      : h(
          'li',
          { class: 'note' },
          'Empty: SES sends a verification message here for each address.',
        ),
  );
}

// ---- polling ----------------------------------------------------------------------------

function setConnection(text: string): void {
  $('connection').textContent = text;
}

async function poll(): Promise<void> {
  const [identities, executions, events, mailbox, clock] = await Promise.all([
    getJson<{ data: { items: IdentityItem[]; next_token: string | null } }>(
      '/identities?limit=100',
    ),
    getJson<{ executions: ExecutionSummary[]; total: number }>(
      `/sandbox/executions?limit=${LIST_LIMIT}`,
    ),
    getJson<{ events: DeliveredEvent[] }>(`/sandbox/events?limit=${LIST_LIMIT}`),
    getJson<{ messages: MailboxMessage[] }>('/sandbox/mailbox'),
    getJson<{ now: string; elapsed_seconds: number }>('/sandbox/clock'),
  ]);
  $('clock').textContent =
    `virtual time ${clock.now.replace('T', ' ').slice(0, 19)} UTC · ${duration(clock.elapsed_seconds)} since the sandbox started`;
  const before = state.identities.find((item) => item.identity === state.selectedIdentity);
  state.identities = identities.data.items;
  state.moreIdentities = identities.data.next_token !== null;
  state.executions = executions.executions;
  state.moreExecutions = executions.total - executions.executions.length;
  state.events = events.events;
  state.mailbox = mailbox.messages;

  // Follow the newest run until a person picks one.
  const newest = state.executions[0];
  if (!state.pinnedRun && newest && state.selectedRun !== newest.name) {
    state.selectedRun = newest.name;
    if (!state.selectedIdentity && newest.identity) selectIdentity(newest.identity, false);
  }
  const after = state.identities.find((item) => item.identity === state.selectedIdentity);
  if (after && before && after.updated_at !== before.updated_at) {
    void loadIdentityDetail(after.identity);
  }

  drawIdentities();
  drawRuns();
  drawEvents();
  drawMailbox();
  const selected = state.executions.find((run) => run.name === state.selectedRun);
  if (
    selected &&
    (selected.status === 'RUNNING' ||
      state.run?.name !== selected.name ||
      state.run.status !== selected.status)
  ) {
    await refreshRun();
  } else {
    drawRun();
  }
}

async function loop(): Promise<void> {
  try {
    await poll();
    setConnection('');
  } catch (error) {
    setConnection(`The sandbox does not answer (${(error as Error).message}); trying again.`);
  }
  setTimeout(loop, POLL_MS);
}

async function startRun(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const input = $('start-identity') as HTMLInputElement;
  const dns = $('start-dns') as HTMLSelectElement;
  const result = $('start-result');
  const response = await fetch('/identities', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      EmailIdentity: input.value.trim(),
      ...(dns.value !== '' && { Dns: { Provider: dns.value } }),
    }),
  });
  const body = (await response.json()) as {
    data?: { id: string; identity: string; repeated?: boolean };
    error?: { message: string; details?: { field: string; message: string }[] };
  };
  if (body.data) {
    result.textContent = body.data.repeated ? 'already running: following it' : 'started';
    pinRun(body.data.id);
    selectIdentity(body.data.identity, false);
    input.value = '';
  } else {
    const details = (body.error?.details ?? []).map(
      (detail) => `${detail.field}: ${detail.message}`,
    );
    result.textContent = [body.error?.message ?? `HTTP ${response.status}`, ...details].join('; ');
  }
  void poll();
}

async function main(): Promise<void> {
  const machine = await getJson<{ definition: AslDefinition }>('/sandbox/state-machine');
  state.layout = layoutStateMachine(machine.definition);
  ($('start-form') as HTMLFormElement).addEventListener('submit', (event) => void startRun(event));
  const followLink = () => {
    const linked = new URLSearchParams(location.hash.slice(1)).get('run');
    if (linked && linked !== state.selectedRun) {
      pinRun(linked);
      void refreshRun();
    }
  };
  window.addEventListener('hashchange', followLink);
  followLink();
  await loop();
}

void main();
