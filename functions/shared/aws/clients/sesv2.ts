import { SESv2Client } from '@aws-sdk/client-sesv2';
import { tracer } from '#shared/runtime/observability.js';

/**
 * One client for the whole execution environment, created at cold start and traced, so every
 * call reaches X-Ray as a subsegment (the tracer does nothing outside Lambda). Region and
 * endpoint come from the standard variables (AWS_REGION, AWS_ENDPOINT_URL...), which is how the
 * local sandbox points it at its emulators; attempts per call from AWS_MAX_ATTEMPTS, which
 * template.yaml sets: 1 in the workflow steps, whose back-off the state machine owns, and the
 * SDK's standard 3 in the API routes.
 */
export const sesv2Client = tracer.captureAWSv3Client(new SESv2Client({}));
