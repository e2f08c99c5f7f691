import {
  SESv2Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-sesv2';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { tracer } from '#shared/runtime/observability.js';
import { currentSesBudget } from '#shared/ses/budget.js';

const client = new SESv2Client({});

// Every request (each attempt, since SES counts attempts) first takes its action's slot in the
// SES budget of the work it runs in: the SES request worker's and the sweeper's calls are paced;
// outside such work (the API's own reads) this does nothing. Placed just before signing, so a
// request never carries a signature older than its wait.
const paceBySesBudget: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
  (next, context) => async (args) => {
    const budget = currentSesBudget();
    if (budget !== undefined)
      await budget.take((context.commandName ?? '').replace(/Command$/, ''));
    return next(args);
  };
client.middlewareStack.addRelativeTo(paceBySesBudget, {
  relation: 'before',
  toMiddleware: 'httpSigningMiddleware',
  name: 'sesBudgetMiddleware',
});

/**
 * One client for the whole execution environment, created at cold start and traced, so every
 * call reaches X-Ray as a subsegment (the tracer does nothing outside Lambda). Region and
 * endpoint come from the standard variables (AWS_REGION, AWS_ENDPOINT_URL...), which is how the
 * local sandbox points it at its emulators; attempts per call from AWS_MAX_ATTEMPTS, which
 * template.yaml sets: 1 in the workflow steps, whose back-off the state machine owns, and the
 * SDK's standard 3 in the API routes.
 */
export const sesv2Client = tracer.captureAWSv3Client(client);
