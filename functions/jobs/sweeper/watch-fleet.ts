import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from '#shared/aws/clients/eventbridge.js';
import { explainProbeResult, summariseProbe } from '#shared/dns/diagnose.js';
import type { ProbeOptions } from '#shared/dns/probe.js';
import { probeRecords } from '#shared/dns/probe.js';
import type { DnsZone, PublishOutcome } from '#shared/dns/provider.js';
import type { IdentityStatus, RegistryItem } from '#shared/registry/items.js';
import {
  dueForProbe,
  identityItems,
  markDrift,
  recordDriftProbe,
  scheduleProbe,
} from '#shared/registry/registry.js';
import type { IdentityRequest } from '#shared/request/index.js';
import { runFingerprint, startRun } from '#shared/runs/start-run.js';
import { logger } from '#shared/runtime/observability.js';
import type { DkimDnsRecord, ProbeResult, PublishedRecords } from '#shared/workflow/types.js';
import {
  type DriftCause,
  decideDrift,
  isProbeDue,
  nextProbeSlot,
  recordsVerdict,
  restartRefusal,
} from './drift.js';

/** What the drift watch needs besides the registry. */
export interface DriftWatchConfig {
  registryTable: string;
  /** DriftProbeIntervalMinutes: each verified identity's records are probed once per interval. */
  intervalMinutes: number;
  probe: Omit<ProbeOptions, 'domain' | 'zoneName'>;
  eventBusName: string;
  eventSource: string;
  stateMachineArn: string;
  /** Puts records back in a Route 53 zone (the Route 53 provider's UPSERT, waited to INSYNC). */
  repair: (records: DkimDnsRecord[], zone: DnsZone) => Promise<PublishOutcome>;
  /** Probes at a time. */
  concurrency?: number;
  /**
   * Milliseconds of a sweep after which no more probes start (the function has 55 s, and a DNS
   * server that does not answer costs a probe seconds): the rest wait for the next sweep.
   */
  budgetMs?: number;
}

/** What one sweep's drift watch did. */
export interface DriftReport {
  /**
   * Identities the sweep looked at: those due by the registry's `probe_due_at` (in their minute
   * of the cadence, a miss to confirm, DEGRADED), and VERIFIED ones SES no longer lists SUCCESS.
   */
  watched: number;
  probed: number;
  degraded: number;
  recovered: number;
  repaired: number;
  restarted: number;
  /** Probes due that this sweep left to the next, out of time. */
  deferred: number;
}

/** The detail-types the drift watch emits (the state machine emits the others). */
export const DRIFT_DETAIL_TYPES = ['Email Identity Degraded', 'Email Identity Recovered'] as const;

/** The statuses the drift watch reads from the registry on every sweep. */
const WATCHED: IdentityStatus[] = ['VERIFIED', 'DEGRADED', 'FAILED', 'TIMED_OUT'];

/** A record a person must put back, and what to do. */
interface RecordToFix extends DkimDnsRecord {
  status: ProbeResult['status'];
  action: string;
}

/**
 * The drift watch: every identity the registry holds VERIFIED (or DEGRADED) is compared with
 * SES's status from this sweep's ListEmailIdentities, and its records are probed on the cadence
 * (isProbeDue). Confirmed drift marks it DEGRADED and emits "Email Identity Degraded" with the
 * per-record diagnosis; records the stack published in Route 53 are UPSERTed back, others are
 * listed for a person. SES back at SUCCESS with every record right: "Email Identity Recovered".
 * An identity SES has FAILED whose records are right is restarted through a new run, as a
 * retry would be, unless its AutoRestart is false. No SES call is made here: runs make theirs
 * through the SES request queue.
 *
 * A sweep reads only what it may act on, however large the fleet: the identities due by the
 * registry's `probe_due_at` (ByProbeDue: each healthy identity once an interval, in its minute;
 * every sweep while a miss waits to be confirmed or it is DEGRADED), and the VERIFIED ones SES
 * lists as anything but SUCCESS (one read each). An identity gone from SES altogether is seen in
 * its minute of the cadence.
 */
export async function watchedIdentities(
  config: Pick<DriftWatchConfig, 'registryTable'>,
  now: Date,
): Promise<RegistryItem[]> {
  const due: RegistryItem[] = [];
  for (const status of WATCHED) {
    for await (const item of dueForProbe(config.registryTable, status, now)) due.push(item);
  }
  return due;
}

/**
 * The identities SES lists as anything but SUCCESS that the registry holds VERIFIED or DEGRADED,
 * besides those already in hand (`known`): SES leaving SUCCESS is drift at once, whatever the
 * minute. Runs under way (SES at PENDING, or FAILED for a run that is about to say so) and failed
 * identities nobody deleted are read too, one read each, and left alone.
 */
export async function sesDriftSuspects(
  config: Pick<DriftWatchConfig, 'registryTable'>,
  sesStatuses: ReadonlyMap<string, string>,
  known: ReadonlySet<string>,
): Promise<RegistryItem[]> {
  const suspects = [...sesStatuses]
    .filter(([identity, status]) => status !== 'SUCCESS' && !known.has(identity))
    .map(([identity]) => identity);
  if (suspects.length === 0) return [];
  const items = await identityItems(config.registryTable, suspects);
  return items.filter((item) => item.status === 'VERIFIED' || item.status === 'DEGRADED');
}

/**
 * The identities the watch acts on among those read: no run holds them, and a FAILED or
 * TIMED_OUT one is a domain (an address's restart would mail its owner again). An address that
 * failed leaves the ByProbeDue index until a run claims it again.
 */
async function watchable(items: RegistryItem[], config: DriftWatchConfig): Promise<RegistryItem[]> {
  const kept: RegistryItem[] = [];
  for (const item of items) {
    if (item.active_run_id !== undefined) continue;
    if (
      (item.status === 'FAILED' || item.status === 'TIMED_OUT') &&
      item.identity_type !== 'DOMAIN'
    ) {
      await scheduleProbe(config.registryTable, item.identity, item.status, null);
      continue;
    }
    kept.push(item);
  }
  return kept;
}

/**
 * One sweep of the drift watch over the identities {@link watchedIdentities} and
 * {@link sesDriftSuspects} returned. Each one looked at and not probed is due again in its next
 * minute of the cadence; a probe the sweep has no time for stays due.
 */
export async function watchFleet(
  read: RegistryItem[],
  sesStatuses: ReadonlyMap<string, string>,
  now: Date,
  config: DriftWatchConfig,
  notInSes: string,
): Promise<DriftReport> {
  const watched = await watchable(read, config);
  const report: DriftReport = {
    watched: watched.length,
    probed: 0,
    degraded: 0,
    recovered: 0,
    repaired: 0,
    restarted: 0,
    deferred: 0,
  };
  const due: RegistryItem[] = [];
  for (const item of watched) {
    const probeNow = isProbeDue(
      {
        identity: item.identity,
        status: item.status,
        sesStatus: sesStatuses.get(item.identity) ?? notInSes,
        driftMisses: item.drift_misses ?? 0,
        checkedAt: item.checked_at,
        dueAt: item.probe_due_at,
      },
      now,
      config.intervalMinutes,
    );
    if (probeNow) {
      due.push(item);
    } else {
      // Read for nothing this time (a run just ended, SES has not FAILED it): its next minute.
      const next = nextProbeSlot(item.identity, now, config.intervalMinutes).toISOString();
      await scheduleProbe(config.registryTable, item.identity, item.status, next);
    }
  }
  // Drifted and suspect identities first: they are few, and their news is the one that matters.
  due.sort((a, b) => urgency(b) - urgency(a));
  const concurrency = config.concurrency ?? 16;
  const stopAt = Date.now() + (config.budgetMs ?? 40_000);
  for (let i = 0; i < due.length; i += concurrency) {
    if (Date.now() >= stopAt) {
      report.deferred = due.length - i;
      logger.warn('Drift watch out of time: the rest of the due probes wait for the next sweep', {
        deferred: report.deferred,
      });
      break;
    }
    await Promise.all(
      due.slice(i, i + concurrency).map(async (item) => {
        try {
          await watchOne(item, sesStatuses.get(item.identity) ?? notInSes, now, config, report);
        } catch (error) {
          // One identity's trouble (a throttled Route 53, a refused event) waits for the next sweep.
          logger.error('Drift watch failed for an identity', { identity: item.identity, error });
        }
      }),
    );
  }
  if (report.watched > 0) logger.info('Drift watch', { ...report });
  return report;
}

/** How soon an identity's probe matters: DEGRADED, then a miss to confirm, then the rest. */
function urgency(item: RegistryItem): number {
  if (item.status === 'DEGRADED') return 2;
  return (item.drift_misses ?? 0) > 0 ? 1 : 0;
}

async function watchOne(
  item: RegistryItem,
  sesStatus: string,
  now: Date,
  config: DriftWatchConfig,
  report: DriftReport,
): Promise<void> {
  const records = parse<DkimDnsRecord[]>(item.records_json) ?? [];
  const published = parse<PublishedRecords | null>(item.published_json) ?? null;
  const probe = await probeRecords(records, {
    ...config.probe,
    domain: item.identity,
    ...(published?.hosted_zone_name && { zoneName: published.hosted_zone_name }),
  });
  report.probed += 1;
  const checkedAt = now.toISOString();
  const nextSlot = nextProbeSlot(item.identity, now, config.intervalMinutes).toISOString();

  if (item.status === 'FAILED' || item.status === 'TIMED_OUT') {
    await recordDriftProbe(config.registryTable, item.identity, {
      probe,
      checked_at: checkedAt,
      misses: item.drift_misses ?? 0,
      ses_status: sesStatus,
      due_at: nextSlot,
    });
    if (sesStatus === 'FAILED' && recordsVerdict(probe) === 'RIGHT') {
      const restart = await restartVerification(item, config);
      if (restart.execution_id !== null) report.restarted += 1;
    }
    return;
  }

  const status = item.status as 'VERIFIED' | 'DEGRADED';
  const decision = decideDrift(status, sesStatus, probe, item.drift_misses ?? 0);
  // A miss to confirm, or drift (to see it repaired or over): the next sweep looks again.
  const lookAgain = decision.action === 'DEGRADE' || decision.action === 'STILL_DEGRADED';
  const stillHeld = await recordDriftProbe(config.registryTable, item.identity, {
    probe,
    checked_at: checkedAt,
    misses: decision.misses,
    ses_status: sesStatus,
    due_at: lookAgain || decision.misses > 0 ? checkedAt : nextSlot,
  });
  if (!stillHeld || decision.action === 'NONE') return;

  if (decision.action === 'RECOVER') {
    const recovery = { from: 'DEGRADED', to: 'VERIFIED' } as const;
    if (!(await markDrift(config.registryTable, item.identity, recovery, now))) return;
    await emitOrUndo(config, item.identity, recovery, now, DRIFT_DETAIL_TYPES[1], {
      identity: item.identity,
      identity_type: item.identity_type,
      execution_id: item.latest_run?.id ?? null,
      degraded_at: item.degraded_at ?? null,
      recovered_at: checkedAt,
      ses_status: sesStatus,
      records,
      diagnosis: probe,
    });
    report.recovered += 1;
    return;
  }

  const repair = await repairRecords(probe, records, published, config.repair);
  if (repair.repaired_records.length > 0) report.repaired += 1;
  if (decision.action === 'STILL_DEGRADED') {
    if (sesStatus === 'FAILED' && recordsVerdict(probe) === 'RIGHT') {
      const restart = await restartVerification(item, config);
      if (restart.execution_id !== null) report.restarted += 1;
    }
    return;
  }
  const degradation = { from: 'VERIFIED', to: 'DEGRADED' } as const;
  if (!(await markDrift(config.registryTable, item.identity, degradation, now))) return;
  const autoRestart =
    sesStatus === 'FAILED' && recordsVerdict(probe) === 'RIGHT'
      ? await restartVerification(item, config)
      : restartOutlook(item);
  if (autoRestart.execution_id !== null) report.restarted += 1;
  await emitOrUndo(config, item.identity, degradation, now, DRIFT_DETAIL_TYPES[0], {
    identity: item.identity,
    identity_type: item.identity_type,
    execution_id: item.latest_run?.id ?? null,
    degraded_at: checkedAt,
    ses_status: sesStatus,
    causes: decision.causes,
    message: degradedMessage(item.identity, sesStatus, decision.causes, probe, repair),
    records,
    diagnosis: probe,
    provider: published?.provider ?? null,
    hosted_zone_id: published?.hosted_zone_id ?? null,
    repair,
    auto_restart: autoRestart,
  });
  report.degraded += 1;
}

/** What the drift watch did about wrong records: put back in Route 53, or left to a person. */
interface Repair {
  repaired_records: DkimDnsRecord[];
  records_to_fix_by_hand: RecordToFix[];
  detail: string;
}

/**
 * Puts back the records that are gone or wrong, where the stack wrote them (Route 53, its zone
 * known): one UPSERT batch through the Route 53 provider. Records a person manages are listed
 * with what to do; a failed repair lists them too, and the next sweep tries again.
 */
async function repairRecords(
  probe: ProbeResult[],
  records: DkimDnsRecord[],
  published: PublishedRecords | null,
  repairWith: DriftWatchConfig['repair'],
): Promise<Repair> {
  const wrong = records.filter((_, i) => {
    const status = probe[i]?.status;
    return status !== undefined && status !== 'OK' && status !== 'ERROR';
  });
  const byHand = (): RecordToFix[] =>
    wrong.map((record) => {
      const result = probe[records.indexOf(record)] as ProbeResult;
      return { ...record, status: result.status, action: explainProbeResult(result) ?? '' };
    });
  if (wrong.length === 0) {
    return { repaired_records: [], records_to_fix_by_hand: [], detail: 'No record to repair.' };
  }
  const zone =
    published?.provider === 'route53' &&
    published.written &&
    published.hosted_zone_id !== null &&
    published.hosted_zone_name !== null
      ? { id: published.hosted_zone_id, name: published.hosted_zone_name }
      : null;
  if (zone === null) {
    return {
      repaired_records: [],
      records_to_fix_by_hand: byHand(),
      detail: `The stack did not write these records (${published?.provider ?? 'manual'} DNS): a person must put ${wrong.length} of them back.`,
    };
  }
  try {
    const outcome = await repairWith(wrong, zone);
    return { repaired_records: wrong, records_to_fix_by_hand: [], detail: outcome.detail };
  } catch (error) {
    logger.warn('Putting DKIM records back failed; the next sweep tries again', {
      zone: zone.id,
      error,
    });
    return {
      repaired_records: [],
      records_to_fix_by_hand: byHand(),
      detail: `Putting the records back in Route 53 zone ${zone.name} failed (${(error as Error).name}: ${(error as Error).message}); the next sweep tries again.`,
    };
  }
}

/** The automatic restart as the Degraded event reports it. */
interface AutoRestart {
  status: 'STARTED' | 'WAITING' | 'OFF' | 'NOT_POSSIBLE';
  /** The run the stack started (its execution name). */
  execution_id: string | null;
  detail: string;
}

/** What the stack will do if SES gives up on this identity while its records are right. */
function restartOutlook(item: RegistryItem): AutoRestart {
  const refusal = refusalFor(item);
  if (refusal !== null) {
    return {
      status: item.auto_restart === false ? 'OFF' : 'NOT_POSSIBLE',
      execution_id: null,
      detail: refusal,
    };
  }
  return {
    status: 'WAITING',
    execution_id: null,
    detail:
      'SES still looks for the records; should it give up (FAILED) while they are right, the stack restarts the verification itself.',
  };
}

function refusalFor(item: RegistryItem): string | null {
  return restartRefusal({
    identityType: item.identity_type,
    autoRestart: item.auto_restart !== false,
    restartRequest: parse<IdentityRequest>(item.restart_request_json) ?? null,
    latestRunStartedBy: item.latest_run?.started_by,
    latestRunStatus: item.latest_run?.status,
  });
}

/**
 * Restarts the verification of an identity SES has FAILED whose records are right: a new run
 * of the creation request, which adopts the identity and restarts it as a retry does (see the
 * CreateIdentity step). Its id is derived from the run it follows, so a sweep that runs twice
 * starts it once; its events say `started_by: AUTO_RESTART`.
 */
async function restartVerification(
  item: RegistryItem,
  config: DriftWatchConfig,
): Promise<AutoRestart> {
  const refusal = refusalFor(item);
  if (refusal !== null) {
    return {
      status: item.auto_restart === false ? 'OFF' : 'NOT_POSSIBLE',
      execution_id: null,
      detail: refusal,
    };
  }
  const request = parse<IdentityRequest>(item.restart_request_json) as IdentityRequest;
  try {
    const run = await startRun(
      {
        identity: item.identity,
        identityType: item.identity_type,
        operation: 'CreateIdentity',
        fingerprint: runFingerprint(request, 'DkimSigningAttributes'),
        idempotencyKey: `auto-restart:${item.latest_run?.id ?? 'none'}`,
        inputFor: () => request,
        creationRequest: request,
        startedBy: 'AUTO_RESTART',
      },
      { stateMachineArn: config.stateMachineArn, registryTable: config.registryTable },
    );
    logger.info('Restarted a verification SES gave up on', {
      identity: item.identity,
      run: run.id,
    });
    return {
      status: 'STARTED',
      execution_id: run.id,
      detail:
        'SES had given up on the identity (FAILED) while every record is right: the stack started a new run that restarts the verification.',
    };
  } catch (error) {
    logger.warn('Could not restart a verification', { identity: item.identity, error });
    return {
      status: 'NOT_POSSIBLE',
      execution_id: null,
      detail: `Starting a new run failed (${(error as Error).name}: ${(error as Error).message}); the next sweep tries again.`,
    };
  }
}

function degradedMessage(
  identity: string,
  sesStatus: string,
  causes: DriftCause[],
  probe: ProbeResult[],
  repair: Repair,
): string {
  const parts: string[] = [];
  if (causes.includes('SES_NOT_SUCCESS')) {
    parts.push(
      sesStatus === 'NOT_FOUND'
        ? `SES no longer has ${identity}.`
        : `SES reports ${identity} ${sesStatus}, no longer SUCCESS.`,
    );
  }
  if (causes.includes('RECORDS_WRONG')) parts.push(summariseProbe(probe));
  if (repair.repaired_records.length > 0) {
    parts.push(
      `The stack put ${repair.repaired_records.length} record(s) back in Route 53: ${repair.detail}`,
    );
  } else if (repair.records_to_fix_by_hand.length > 0) {
    parts.push(repair.detail);
  }
  return parts.join(' ');
}

/**
 * Emits the event of a status change the registry has just recorded, or undoes the change when
 * the event cannot be delivered, so that the next sweep sees the drift (or recovery) again and
 * emits it then: the registry never says DEGRADED without the event having gone out.
 */
async function emitOrUndo(
  config: DriftWatchConfig,
  identity: string,
  change: { from: 'VERIFIED'; to: 'DEGRADED' } | { from: 'DEGRADED'; to: 'VERIFIED' },
  now: Date,
  detailType: string,
  detail: unknown,
): Promise<void> {
  try {
    await emit(config, detailType, detail);
  } catch (error) {
    const undo =
      change.to === 'DEGRADED'
        ? ({ from: 'DEGRADED', to: 'VERIFIED' } as const)
        : ({ from: 'VERIFIED', to: 'DEGRADED' } as const);
    await markDrift(config.registryTable, identity, undo, now);
    throw error;
  }
}

/** Puts one event on the bus, checking FailedEntryCount (a refused entry is an error). */
async function emit(config: DriftWatchConfig, detailType: string, detail: unknown) {
  const output = await eventBridgeClient.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: config.eventBusName,
          Source: config.eventSource,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          Resources: [],
        },
      ],
    }),
  );
  if ((output.FailedEntryCount ?? 0) > 0) {
    const entry = output.Entries?.[0];
    throw new Error(
      `EventBridge refused "${detailType}": ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`,
    );
  }
}

function parse<T>(json: string | undefined): T | undefined {
  return json === undefined ? undefined : (JSON.parse(json) as T);
}
