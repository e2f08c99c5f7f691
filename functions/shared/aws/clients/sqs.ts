import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '#shared/runtime/observability.js';

/**
 * One client for the whole execution environment, created at cold start and traced (see
 * sfn.ts); region, endpoint and attempts come from the standard variables.
 */
export const sqsClient = tracer.captureAWSv3Client(new SQSClient({}));
