import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One client for the whole execution environment, created at cold start. Region and endpoint
 * come from the standard variables (AWS_REGION, AWS_ENDPOINT_URL...), which is how the local
 * sandbox points it at its emulators. The document client marshals plain objects; `undefined`
 * fields are left out rather than rejected, as an optional field in our items is absent.
 */
export const dynamodbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
