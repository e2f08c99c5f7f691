import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '#shared/runtime/observability.js';

/**
 * One client for the whole execution environment, created at cold start and traced (see
 * sfn.ts). The document client marshals plain objects; `undefined` fields are left out rather
 * than rejected, as an optional field of a registry item is absent.
 */
export const dynamodbClient = DynamoDBDocumentClient.from(
  tracer.captureAWSv3Client(new DynamoDBClient({})),
  { marshallOptions: { removeUndefinedValues: true } },
);
