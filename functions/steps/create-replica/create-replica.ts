import { sesErrorName } from '#shared/aws/classify-error.js';
import {
  createReplicaIdentity,
  failedReplica,
  type ReplicaCheck,
  readReplicaIdentity,
  replicaCheckOf,
  replicaErrorDetail,
} from '#shared/ses/replica-identity.js';
import { deedOriginOf, homeRegion } from '#shared/ses/replicas.js';
import { ConfigurationError } from '#shared/workflow/errors.js';

/** What CreateReplica receives for one Region: the verified parent's name and the Region. */
export interface ReplicaInput {
  identity: string;
  region: string;
}

/**
 * Creates the DEED replica of the verified parent identity in `input.region`
 * (CreateEmailIdentity there, `DomainSigningAttributesOrigin: AWS_SES_<this Region>`), or adopts
 * one that SES already has there with the same origin (a retried step, an earlier run). An
 * identity of the same name there with DKIM of its own is left alone and the replica FAILED:
 * replacing it would change how that Region signs. SES's refusals (the parent not verified, a
 * quota, IAM) make the replica FAILED with SES's words; throttling is thrown, for the queue and
 * the state machine to retry.
 */
export async function createReplica(input: ReplicaInput, now: Date): Promise<ReplicaCheck> {
  const parentRegion = homeRegion();
  if (parentRegion === undefined) throw new ConfigurationError('AWS_REGION is not set');
  const origin = deedOriginOf(parentRegion);
  try {
    const attributes = await createReplicaIdentity(input.region, input.identity, origin);
    return replicaCheckOf(input.region, attributes, { createdAt: now, checks: 1, now });
  } catch (error) {
    if (sesErrorName(error) !== 'AlreadyExistsException') {
      return failedReplica(
        input.region,
        replicaErrorDetail(error, input.region, 'CreateEmailIdentity'),
        { createdAt: null, checks: 1 },
      );
    }
  }
  return adoptReplica(input, origin, now);
}

async function adoptReplica(input: ReplicaInput, origin: string, now: Date): Promise<ReplicaCheck> {
  let attributes: Awaited<ReturnType<typeof readReplicaIdentity>>;
  try {
    attributes = await readReplicaIdentity(input.region, input.identity);
  } catch (error) {
    return failedReplica(
      input.region,
      replicaErrorDetail(error, input.region, 'GetEmailIdentity'),
      { createdAt: null, checks: 1 },
    );
  }
  if (attributes === null) {
    return failedReplica(
      input.region,
      `${input.identity} existed in ${input.region} when the replica was created and was gone when it was read: someone deleted it meanwhile; send the request again`,
      { createdAt: null, checks: 1 },
    );
  }
  if (attributes.SigningAttributesOrigin !== origin) {
    return failedReplica(
      input.region,
      `${input.identity} already exists in ${input.region} with DKIM of its own (SigningAttributesOrigin ${attributes.SigningAttributesOrigin ?? 'none'}), not as a replica of this Region's identity (${origin}); it was left as it is: delete it there, or leave ${input.region} out of Replicas`,
      { createdAt: null, checks: 1 },
    );
  }
  return replicaCheckOf(input.region, attributes, { createdAt: now, checks: 1, now });
}
