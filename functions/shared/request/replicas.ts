import * as z from 'zod/mini';
import { homeRegion, isDeedRegion, MAX_REPLICAS } from '#shared/ses/replicas.js';
import { identityTypeOf } from './identity-name.js';
import { quoted } from './quote.js';

/**
 * The Regions this deployment may create replicas in: `SES_REPLICA_REGIONS` (comma-separated,
 * from the template's ReplicaRegions parameter, which also scopes the IAM policy), so that a
 * request for any other Region is refused before any AWS call rather than by IAM at SES. Unset
 * outside a deployment: any DEED Region.
 */
export function allowedReplicaRegions(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env.SES_REPLICA_REGIONS;
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((region) => region.trim())
    .filter(Boolean);
}

function regionProblems(region: string): string[] {
  if (!isDeedRegion(region)) {
    return [
      `${quoted(region)} is not an SES Region that offers Deterministic Easy DKIM (a Region code such as eu-west-1, in lower case)`,
    ];
  }
  const home = homeRegion();
  if (region === home) {
    return [
      `is this stack's own Region (${home}), where the parent identity is created: a replica goes to another Region`,
    ];
  }
  const allowed = allowedReplicaRegions();
  if (allowed !== undefined && !allowed.includes(region)) {
    return [
      allowed.length === 0
        ? `is not allowed: this stack may create replicas in no Region (its ReplicaRegions parameter is empty)`
        : `is not one of the Regions this stack may create replicas in (its ReplicaRegions parameter: ${allowed.join(', ')})`,
    ];
  }
  return [];
}

/** `Replicas`: distinct SES Regions, other than the stack's own, that the stack may use. */
export const replicasSchema = z
  .array(
    z.string({
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be a Region code'),
    }),
    {
      error: (issue) =>
        issue.input === undefined ? 'is required' : 'must be an array of Region codes',
    },
  )
  .check(
    z.superRefine((regions, ctx) => {
      if (regions.length > MAX_REPLICAS) {
        ctx.addIssue({
          code: 'custom',
          message: `has ${regions.length} Regions; at most ${MAX_REPLICAS} (every other SES Region)`,
        });
      }
      const firstIndex = new Map<string, number>();
      regions.forEach((region, index) => {
        for (const message of regionProblems(region)) {
          ctx.addIssue({ code: 'custom', path: [index], message });
        }
        const first = firstIndex.get(region);
        if (first === undefined) firstIndex.set(region, index);
        else {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `repeats Replicas[${first}]; each Region gets one replica`,
          });
        }
      });
    }),
  );

/**
 * What `Replicas` requires of the rest of the request: DEED replicates a domain's Easy DKIM, so
 * an address, BYODKIM, or no DKIM at all cannot be replicated.
 */
export function replicaProblems(request: {
  EmailIdentity?: unknown;
  Replicas?: unknown;
  DkimSigningAttributes?: unknown;
}): { path: PropertyKey[]; message: string }[] {
  if (!Array.isArray(request.Replicas) || request.Replicas.length === 0) return [];
  const problems: { path: PropertyKey[]; message: string }[] = [];
  if (
    typeof request.EmailIdentity === 'string' &&
    identityTypeOf(request.EmailIdentity) === 'EMAIL_ADDRESS'
  ) {
    problems.push({
      path: ['Replicas'],
      message:
        "applies only to a domain identity (DEED replicates a domain's Easy DKIM), and EmailIdentity is an email address",
    });
  }
  const attributes = request.DkimSigningAttributes as Record<string, unknown> | undefined;
  const byodkim =
    attributes !== undefined &&
    attributes !== null &&
    typeof attributes === 'object' &&
    [
      'DomainSigningSelector',
      'DomainSigningPrivateKey',
      'DomainSigningPrivateKeySecretArn',
      'GenerateDomainSigningKey',
    ].some((field) => attributes[field] !== undefined);
  if (byodkim) {
    problems.push({
      path: ['Replicas'],
      message:
        "needs Easy DKIM: DEED replicates the parent identity's Easy DKIM keys, and DkimSigningAttributes asks for BYODKIM",
    });
  }
  return problems;
}
