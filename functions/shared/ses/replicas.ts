/**
 * Deterministic Easy DKIM (DEED) replicas: the same domain identity in other SES Regions, signing
 * with the parent identity's Easy DKIM keys, behind the CNAMEs published once for the parent.
 *
 * What SES documents, and what this module relies on:
 * - A replica is made by CreateEmailIdentity **in the replica Region** with
 *   `DkimSigningAttributes.DomainSigningAttributesOrigin = "AWS_SES_<PARENT_REGION>"` (upper case,
 *   hyphens as underscores: `AWS_SES_US_EAST_1`); for CreateEmailIdentity every value but `AWS_SES`
 *   and `EXTERNAL` names a parent Region
 *   (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimSigningAttributes.html).
 * - The parent is "a verified identity configured with Easy DKIM"; the replica "will use the same
 *   DNS records to verify domain ownership", so nothing is published for it
 *   (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-deed.html, and the
 *   launch post "Simplify Multi-Region Email Sending with Simple Email Service's Deterministic
 *   Easy DKIM", AWS Messaging & Targeting Blog).
 * - The Regions are the enum of `DkimSigningAttributesOrigin` in the SES v2 model (SDK
 *   `DkimSigningAttributesOrigin`, added 2024-12-10 with DEED).
 */

/** The SES Regions DEED knows, from the `AWS_SES_<REGION>` values of SES's model. */
export const SES_DEED_REGIONS = [
  'af-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
] as const;

/** At most this many replicas per request: one per other Region SES offers DEED in. */
export const MAX_REPLICAS = SES_DEED_REGIONS.length - 1;

export function isDeedRegion(region: unknown): region is string {
  return typeof region === 'string' && (SES_DEED_REGIONS as readonly string[]).includes(region);
}

/** `us-east-1` → `AWS_SES_US_EAST_1`: how CreateEmailIdentity names a parent's Region. */
export function deedOriginOf(parentRegion: string): string {
  return `AWS_SES_${parentRegion.toUpperCase().replace(/-/g, '_')}`;
}

/** `AWS_SES_US_EAST_1` → `us-east-1`; undefined for `AWS_SES`, `EXTERNAL` or an unknown Region. */
export function parentRegionOf(origin: unknown): string | undefined {
  if (typeof origin !== 'string' || !origin.startsWith('AWS_SES_')) return undefined;
  const region = origin.slice('AWS_SES_'.length).toLowerCase().replace(/_/g, '-');
  return isDeedRegion(region) ? region : undefined;
}

/** The Region the stack runs in, as Lambda (and the sandbox) set it. */
export function homeRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
}

/** One replica's state, as the events and GET report it. */
export type ReplicaStatus = 'PENDING' | 'READY' | 'FAILED';

export interface ReplicaRegionReadiness {
  region: string;
  status: ReplicaStatus;
  /** What happened in that Region, in words: why it waits, or why it failed. */
  detail: string;
}

/**
 * `readiness.replicas`: NOT_REQUESTED (no `Replicas`), PENDING (the parent is not verified yet,
 * or some replica is not), READY (every replica verified), FAILED (some replica cannot be).
 */
export interface ReplicasReadiness {
  status: 'NOT_REQUESTED' | ReplicaStatus;
  regions: ReplicaRegionReadiness[];
}

/** Where a run starts: every requested Region waits for the parent identity. */
export function initialReplicasReadiness(
  regions: readonly string[] | undefined,
): ReplicasReadiness {
  if (regions === undefined || regions.length === 0)
    return { status: 'NOT_REQUESTED', regions: [] };
  return {
    status: 'PENDING',
    regions: regions.map((region) => ({
      region,
      status: 'PENDING',
      detail: 'Created once the parent identity is verified.',
    })),
  };
}
