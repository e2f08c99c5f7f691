import type { ProbeOptions } from '#shared/dns/probe.js';
import { probeRecords } from '#shared/dns/probe.js';
import { HttpError } from '#shared/http/errors.js';
import type { IdentityStatus } from '#shared/registry/items.js';
import { getIdentityItem, recordProbe } from '#shared/registry/registry.js';
import { normaliseEmailIdentity } from '#shared/request/identity-name.js';
import { wake } from '#shared/runs/wake-run.js';
import { clock } from '#shared/runtime/clock.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { DkimDnsRecord, ProbeResult, ProbeStatus } from '#shared/workflow/types.js';

export interface CheckIdentityConfig {
  registryTable: string;
  probe: Omit<ProbeOptions, 'domain'>;
}

/** One record as "check now" found it. */
export interface CheckedRecord {
  name: string;
  type: DkimDnsRecord['type'];
  /** What SES needs the record to hold. */
  value: string;
  status: ProbeStatus;
  /** What DNS holds instead, when it holds something else. */
  found: string | null;
  detail: string | null;
}

/** The `data` of a 200 response. */
export interface CheckNow {
  identity: string;
  status: IdentityStatus;
  dkim_status: string | null;
  records: CheckedRecord[];
  /** True when a run was waiting for this identity and has been woken to look at SES now. */
  woke_run: boolean;
  checked_at: string;
}

/**
 * POST /identities/{identity}/check: looks at DNS now, record by record, and wakes the run waiting
 * on the identity (if one is), which then asks SES at once instead of at its next look, as the
 * "verify" buttons of mail providers do. 404 for an identity the stack does not manage.
 */
export async function checkIdentityNow(
  rawIdentity: string,
  config: CheckIdentityConfig,
): Promise<CheckNow> {
  const { value: identity, problems } = normaliseEmailIdentity(rawIdentity);
  if (problems.length > 0) {
    throw new ValidationError(problems.map((message) => ({ field: 'identity', message })));
  }
  const item = await getIdentityItem(config.registryTable, identity);
  if (item === undefined) {
    throw new HttpError(
      'NOT_FOUND',
      `The stack does not manage ${identity}: start a run with POST /identities`,
    );
  }
  const records =
    item.records_json === undefined ? [] : (JSON.parse(item.records_json) as DkimDnsRecord[]);
  const probe = await probeRecords(records, { ...config.probe, domain: identity });
  const checkedAt = clock.now().toISOString();
  if (records.length > 0) await recordProbe(config.registryTable, identity, probe, checkedAt);
  const wokeRun = await wake(config.registryTable, identity, {
    woken_by: 'check_now',
    ses_status: null,
  });
  return {
    identity,
    status: item.status,
    dkim_status: item.dkim_status,
    records: probe.map((result: ProbeResult, index) => ({
      name: result.name,
      type: result.type,
      value: records[index]?.value ?? result.expected,
      status: result.status,
      found: result.found,
      detail: result.detail,
    })),
    woke_run: wokeRun,
    checked_at: checkedAt,
  };
}
