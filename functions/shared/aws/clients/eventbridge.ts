import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { tracer } from '#shared/runtime/observability.js';

/**
 * One client for the whole execution environment, created at cold start and traced (see
 * sfn.ts). The workflow puts its events through the state machine's own integration; this one
 * serves the functions that emit an event with no run behind it (an onboarding event refused).
 */
export const eventBridgeClient = tracer.captureAWSv3Client(new EventBridgeClient({}));
