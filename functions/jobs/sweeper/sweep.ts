import { ListEmailIdentitiesCommand } from '@aws-sdk/client-sesv2';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import type { RegistryItem } from '#shared/registry/items.js';
import { anyWithStatus, recordSesStatus, waitingRuns } from '#shared/registry/registry.js';
import { normaliseEmailIdentity } from '#shared/request/identity-name.js';
import { wake } from '#shared/runs/wake-run.js';
import { logger } from '#shared/runtime/observability.js';
import {
  type DriftReport,
  type DriftWatchConfig,
  sesDriftSuspects,
  watchedIdentities,
  watchFleet,
} from './watch-fleet.js';

/** What SES's ListEmailIdentities says of an identity we manage that it no longer has. */
export const NOT_IN_SES = 'NOT_FOUND';

/** What one sweep saw and did. */
export interface SweepReport {
  /** ListEmailIdentities calls (1,000 identities a page). */
  ses_pages: number;
  /** Identities of ours that a run is waiting on. */
  waiting: number;
  /** Runs woken because SES's view of their identity changed. */
  woken: number;
  /** What the drift watch did, when it runs. */
  drift?: DriftReport;
}

/**
 * One sweep: reads every identity's verification status from SES in bulk (1,000 a page, paced
 * by the SES budget the caller runs it under), compares it with what the registry last saw, and
 * wakes each waiting run whose identity SES now sees differently. Its cost is one SES call per
 * thousand identities in the account, whatever the number of waiting runs. With `drift`, the
 * same page of statuses also feeds the drift watch over verified identities (watch-fleet.ts).
 * It reads from the registry only the runs that wait with a task token (ByWaiting) and the
 * identities the drift watch may act on in this sweep, never the whole fleet.
 */
export async function sweep(
  table: string,
  now: Date,
  drift?: DriftWatchConfig,
): Promise<SweepReport> {
  const waiting: Pick<RegistryItem, 'identity' | 'task_token' | 'ses_status'>[] = [];
  for await (const item of waitingRuns(table)) {
    if (item.task_token !== undefined) waiting.push(item);
  }
  const due = drift === undefined ? [] : await watchedIdentities(drift, now);
  // SES leaving SUCCESS is drift whatever the minute: while any identity is verified, SES is read.
  const watching =
    drift !== undefined &&
    (due.length > 0 ||
      (await anyWithStatus(table, 'VERIFIED')) ||
      (await anyWithStatus(table, 'DEGRADED')));
  if (waiting.length === 0 && !watching) {
    return { ses_pages: 0, waiting: 0, woken: 0, ...(drift && { drift: emptyDriftReport() }) };
  }

  const { statuses, pages } = await sesVerificationStatuses();
  let woken = 0;
  for (const item of waiting) {
    const sesStatus = statuses.get(item.identity) ?? NOT_IN_SES;
    if (sesStatus === item.ses_status) continue;
    await recordSesStatus(table, item.identity, sesStatus, now);
    // The first look at a run that is still pending tells it nothing new.
    if (item.ses_status === undefined && sesStatus === 'PENDING') continue;
    if (await wake(table, item.identity, { woken_by: 'sweeper', ses_status: sesStatus })) {
      woken += 1;
    }
  }
  logger.info('Swept', { sesPages: pages, waiting: waiting.length, woken });
  const report: SweepReport = { ses_pages: pages, waiting: waiting.length, woken };
  if (drift !== undefined) {
    const known = new Set([...waiting, ...due].map((item) => item.identity));
    const suspects = await sesDriftSuspects(drift, statuses, known);
    report.drift = await watchFleet([...due, ...suspects], statuses, now, drift, NOT_IN_SES);
  }
  return report;
}

function emptyDriftReport(): DriftReport {
  return {
    watched: 0,
    probed: 0,
    degraded: 0,
    recovered: 0,
    repaired: 0,
    restarted: 0,
    deferred: 0,
  };
}

/** Every identity's VerificationStatus, from ListEmailIdentities at its largest page size. */
async function sesVerificationStatuses(): Promise<{
  statuses: Map<string, string>;
  pages: number;
}> {
  const statuses = new Map<string, string>();
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const page = await sesv2Client.send(
      new ListEmailIdentitiesCommand({ PageSize: 1000, NextToken: nextToken }),
    );
    pages += 1;
    for (const identity of page.EmailIdentities ?? []) {
      if (identity.IdentityName !== undefined) {
        // The registry's key: an address keeps its local part's case, which SES keeps too.
        statuses.set(
          normaliseEmailIdentity(identity.IdentityName).value,
          identity.VerificationStatus ?? 'NOT_STARTED',
        );
      }
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return { statuses, pages };
}
