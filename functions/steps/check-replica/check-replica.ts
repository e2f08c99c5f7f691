import {
  failedReplica,
  type ReplicaCheck,
  readReplicaIdentity,
  replicaCheckOf,
  replicaErrorDetail,
} from '#shared/ses/replica-identity.js';

/** What CheckReplica receives: the parent's name and the replica as the last look left it. */
export interface CheckReplicaInput {
  identity: string;
  replica: ReplicaCheck;
}

/**
 * One look at a DEED replica in its Region (GetEmailIdentity there): READY once SES verified it,
 * FAILED when SES gave up, the identity is gone, or 72 hours passed; else PENDING with the wait
 * before the next look.
 */
export async function checkReplica(input: CheckReplicaInput, now: Date): Promise<ReplicaCheck> {
  const { region } = input.replica;
  const createdAt = new Date(input.replica.created_at ?? now.toISOString());
  const checks = input.replica.checks + 1;
  let attributes: Awaited<ReturnType<typeof readReplicaIdentity>>;
  try {
    attributes = await readReplicaIdentity(region, input.identity);
  } catch (error) {
    return failedReplica(region, replicaErrorDetail(error, region, 'GetEmailIdentity'), {
      createdAt,
      checks,
    });
  }
  if (attributes === null) {
    return failedReplica(
      region,
      `The replica of ${input.identity} in ${region} was deleted while it was being verified.`,
      { createdAt, checks },
    );
  }
  return replicaCheckOf(region, attributes, { createdAt, checks, now });
}
