/**
 * A real DynamoDB (dynalite, in this process) with the registry table as template.yaml declares
 * it, for tests of code whose correctness lives in conditional writes and index queries.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDbServer,
  startDynalite,
  tablesFromTemplate,
} from '#sandbox/aws/dynamodb-tables.js';
import { loadTemplate } from '#scripts/validate-cfn-yaml.js';

export const REGISTRY_TABLE = 'IdentityRegistryTable';

/**
 * Starts dynalite, creates the template's tables and points the SDK's DynamoDB clients at it
 * (AWS_ENDPOINT_URL_DYNAMODB): import the modules under test after this resolves.
 */
export async function startRegistryTable(): Promise<DynamoDbServer> {
  const server = await startDynalite();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = server.url;
  const client = new DynamoDBClient({ endpoint: server.url });
  for (const table of tablesFromTemplate(loadTemplate())) {
    await client.send(new CreateTableCommand(table));
  }
  client.destroy();
  return server;
}
