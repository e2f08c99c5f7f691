import {
  SESv2Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-sesv2';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { tracer } from '#shared/runtime/observability.js';
import { currentSesBudget } from '#shared/ses/budget.js';

/**
 * Every request (each attempt, since SES counts attempts) first takes its action's slot in the
 * SES budget of the work it runs in: the SES request worker's and the sweeper's calls are paced;
 * outside such work (the API's own reads) this does nothing. Placed just before signing, so a
 * request never carries a signature older than its wait. SES's rates are per Region, so a
 * client of another Region paces its actions under their own names (`GetEmailIdentity@eu-west-1`).
 */
function paceBySesBudget(
  region?: string,
): FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> {
  return (next, context) => async (args) => {
    const budget = currentSesBudget();
    if (budget !== undefined) {
      const action = (context.commandName ?? '').replace(/Command$/, '');
      await budget.take(region === undefined ? action : `${action}@${region}`);
    }
    return next(args);
  };
}

function pacedClient(region?: string): SESv2Client {
  const client = new SESv2Client(region === undefined ? {} : { region });
  client.middlewareStack.addRelativeTo(paceBySesBudget(region), {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'sesBudgetMiddleware',
  });
  return tracer.captureAWSv3Client(client);
}

/**
 * One client for the whole execution environment, created at cold start and traced, so every
 * call reaches X-Ray as a subsegment (the tracer does nothing outside Lambda). Region and
 * endpoint come from the standard variables (AWS_REGION, AWS_ENDPOINT_URL...), which is how the
 * local sandbox points it at its emulators; attempts per call from AWS_MAX_ATTEMPTS, which
 * template.yaml sets: 1 in the workflow steps, whose back-off the state machine owns, and the
 * SDK's standard 3 in the API routes.
 */
export const sesv2Client = pacedClient();

// Module scope, like the client above: made on a Region's first use, kept for the environment's life.
const regionalClients = new Map<string, SESv2Client>();
let watchingRegionalClients: ((client: SESv2Client) => void) | undefined;

/**
 * Hands every client of another Region to `watch`, those made already and each one as it is
 * made: the local sandbox counts each client's requests as work on its virtual clock. Lambda
 * never calls it.
 */
export function watchRegionalClients(watch: (client: SESv2Client) => void): void {
  watchingRegionalClients = watch;
  for (const client of regionalClients.values()) watch(client);
}

/**
 * The client of another SES Region (a DEED replica's), made on its first use and kept: one per
 * Region, traced and paced like `sesv2Client`, its endpoint from the same variables (the sandbox
 * tells the Regions apart by the SigV4 credential scope, as AWS does by host).
 */
export function sesv2ClientFor(region: string): SESv2Client {
  let client = regionalClients.get(region);
  if (client === undefined) {
    client = pacedClient(region);
    regionalClients.set(region, client);
    watchingRegionalClients?.(client);
  }
  return client;
}
