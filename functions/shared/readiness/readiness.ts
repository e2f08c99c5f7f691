import type { ReplicasReadiness } from '#shared/ses/replicas.js';
import type {
  DkimDnsRecord,
  DkimStatus,
  IdentityType,
  ProbeResult,
  ProbeStatus,
  PublishedRecords,
  RecordPart,
  RequestedParts,
  SendingSetup,
} from '#shared/workflow/types.js';

/**
 * "Ready to send", part by part. Verified is not ready: receivers judge a domain by DKIM, by SPF
 * aligned through a custom MAIL FROM domain, and by its DMARC policy, and a platform for many
 * tenants scopes each identity's reputation to its tenant. A run ends "Email Identity Verified"
 * only when every part the request asks for is READY.
 *
 * Each part is one entry of {@link READINESS_PARTS}: a function from what the run knows to the
 * part's state, or null when the request does not ask for it. A new part is a new entry (and its
 * facts in {@link ReadinessFacts}); the events, the API and the decision read them all alike.
 */

export type PartStatus = 'READY' | 'PENDING' | 'FAILED';

/** A record a part needs, with what our latest DNS look-up found for it. */
export interface PartRecord extends Omit<DkimDnsRecord, 'part'> {
  /** Our probe's finding; null when the run has not looked at DNS for it. */
  status: ProbeStatus | null;
  found: string | null;
  detail: string | null;
}

/** One part of readiness. */
export interface ReadinessPart {
  status: PartStatus;
  /** SES's own status for the part, where SES keeps one (DKIM, MAIL FROM); else null. */
  ses_status: string | null;
  /** The DNS records the part needs (none for a tenant). */
  records: PartRecord[];
  /** What the status means, and what to do when it is not READY. */
  detail: string;
  /** Facts of the part (the MAIL FROM domain, the tenant's ARN, the DMARC action...). */
  [fact: string]: unknown;
}

/** Readiness of the parts a request asks for, by name; DKIM for every domain. */
export type Readiness = Record<string, ReadinessPart>;

/**
 * Readiness as a run reports it (events, GET): the parts above, and `replicas` beside them when
 * the request asks for DEED replicas in other Regions, in a shape of its own (`{status, regions}`).
 * The replicas are created only once the parent identity is verified, so the state machine adds
 * them (AddReplicasReadiness) rather than a reader here; "Email Identity Verified" needs every
 * part READY and every replica too.
 */
export type RunReadiness = { [part: string]: ReadinessPart | ReplicasReadiness } & {
  replicas?: ReplicasReadiness;
};

/** The parts, with the replicas beside them when the request asked for replicas. */
export function withReplicas(
  readiness: Readiness | null | undefined,
  replicas: ReplicasReadiness | null | undefined,
): RunReadiness | null {
  if (replicas === null || replicas === undefined || replicas.status === 'NOT_REQUESTED') {
    return readiness ?? null;
  }
  const { replicas: _stale, ...parts } = (readiness ?? {}) as RunReadiness;
  return { ...parts, replicas };
}

/** What a look at the identity knows, from which each part's state is read. */
export interface ReadinessFacts {
  identity_type: IdentityType;
  /** SES's DKIM status, and whether SES verified the identity for sending. */
  dkim_status: DkimStatus | null;
  verified_for_sending: boolean;
  /** SES's MailFromDomainStatus, when SES has been asked (or the last known one). */
  mail_from_status: string | null;
  parts: RequestedParts | null;
  sending: SendingSetup | null;
  dns: PublishedRecords;
  probe: ProbeResult[];
}

type PartReader = (facts: ReadinessFacts) => ReadinessPart | null;

/** The parts of readiness, in the order the events list them. Add a part here. */
export const READINESS_PARTS: Record<string, PartReader> = {
  dkim: dkimPart,
  mail_from: mailFromPart,
  dmarc: dmarcPart,
  tenant: tenantPart,
};

/** Every requested part's state. */
export function readinessOf(facts: ReadinessFacts): Readiness {
  const readiness: Readiness = {};
  for (const [name, read] of Object.entries(READINESS_PARTS)) {
    const part = read(facts);
    if (part !== null) readiness[name] = part;
  }
  return readiness;
}

/** True when every requested part is READY. */
export function isReady(readiness: Readiness): boolean {
  return Object.values(readiness).every((part) => part.status === 'READY');
}

/** The names of the parts in a status. */
export function partsIn(readiness: Readiness, status: PartStatus): string[] {
  return Object.entries(readiness)
    .filter(([, part]) => part.status === status)
    .map(([name]) => name);
}

/** The records of one part, each with its probe result (matched by name and type). */
function recordsOf(facts: ReadinessFacts, part: RecordPart): PartRecord[] {
  return facts.dns.records
    .filter((record) => (record.part ?? 'dkim') === part)
    .map(({ part: _part, ...record }) => {
      const probed = facts.probe.find((r) => r.name === record.name && r.type === record.type);
      return {
        ...record,
        status: probed?.status ?? null,
        found: probed?.found ?? null,
        detail: probed?.detail ?? null,
      };
    });
}

function dkimPart(facts: ReadinessFacts): ReadinessPart | null {
  if (facts.identity_type !== 'DOMAIN') return null;
  const ready = facts.verified_for_sending && facts.dkim_status === 'SUCCESS';
  return {
    status: ready ? 'READY' : facts.dkim_status === 'FAILED' ? 'FAILED' : 'PENDING',
    ses_status: facts.dkim_status,
    records: recordsOf(facts, 'dkim'),
    detail: ready
      ? 'SES verified DKIM: the domain can sign and send.'
      : facts.dkim_status === 'FAILED'
        ? 'SES stopped looking for the DKIM records: fix them and start a new run.'
        : 'SES has not seen the DKIM records yet.',
  };
}

function mailFromPart(facts: ReadinessFacts): ReadinessPart | null {
  const requested = facts.parts?.mail_from ?? null;
  if (requested === null) return null;
  const sesStatus = facts.mail_from_status;
  const status: PartStatus =
    sesStatus === 'SUCCESS' ? 'READY' : sesStatus === 'FAILED' ? 'FAILED' : 'PENDING';
  const records = recordsOf(facts, 'mail_from');
  const mx = records.find((record) => record.type === 'MX');
  return {
    status,
    ses_status: sesStatus,
    records,
    detail:
      status === 'READY'
        ? `SES found the MX record of ${requested.domain}: mail leaves with this MAIL FROM domain, aligned for SPF.`
        : status === 'FAILED'
          ? `SES cannot find the MX record of ${requested.domain} (${mx?.value ?? 'its feedback endpoint'}, priority 10), or it is gone: add it, then start a new run. Meanwhile SES ${requested.behavior_on_mx_failure === 'REJECT_MESSAGE' ? 'rejects mail from this identity' : 'sends with its own MAIL FROM domain (amazonses.com)'}.`
          : `SES has not seen the MX record of ${requested.domain} yet${sesStatus === 'TEMPORARY_FAILURE' ? ' (a temporary DNS failure; SES keeps looking)' : ''}.`,
    domain: requested.domain,
    behavior_on_mx_failure: requested.behavior_on_mx_failure,
  };
}

function dmarcPart(facts: ReadinessFacts): ReadinessPart | null {
  if ((facts.parts?.dmarc ?? null) === null) return null;
  const outcome = facts.dns.dmarc ?? null;
  if (outcome?.action === 'EXISTING') {
    // Never overwritten: the domain's own policy counts, whatever it says.
    return {
      status: 'READY',
      ses_status: null,
      records: [
        {
          type: 'TXT',
          name: outcome.name,
          value: outcome.value,
          ttl: 0,
          status: null,
          found: outcome.value,
          detail: 'an existing record, kept as it is',
        },
      ],
      detail: `${outcome.name} already holds a DMARC policy, which was kept (never overwritten): ${outcome.value}`,
      action: 'EXISTING',
    };
  }
  const records = recordsOf(facts, 'dmarc');
  const ready = records.length > 0 && records.every((record) => record.status === 'OK');
  return {
    status: ready ? 'READY' : 'PENDING',
    ses_status: null,
    records,
    detail: ready
      ? 'The DMARC record is in DNS.'
      : `The DMARC record is not in DNS yet${outcome?.action === 'REQUIRED' ? ': add it' : ''}.`,
    action: outcome?.action ?? null,
  };
}

function tenantPart(facts: ReadinessFacts): ReadinessPart | null {
  const requested = facts.parts?.tenant ?? null;
  if (requested === null) return null;
  const tenant = facts.sending?.tenant ?? null;
  return {
    status: tenant === null ? 'PENDING' : 'READY',
    ses_status: null,
    records: [],
    detail:
      tenant === null
        ? `The identity is not associated with tenant ${requested.name} yet.`
        : `The identity${tenant.resources.length > 1 ? ' and its configuration set' : ''} belong${tenant.resources.length > 1 ? '' : 's'} to tenant ${tenant.name}${tenant.created ? ' (created by this run)' : ''}: SES scopes reputation and sending pauses to it.`,
    name: requested.name,
    tenant_arn: tenant?.arn ?? null,
    created: tenant?.created ?? false,
    resources: tenant?.resources ?? [],
  };
}
