/**
 * A real DynamoDB (dynalite, in this process) with the registry table as template.yaml declares
 * it, for tests of code whose correctness lives in conditional writes and index queries.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type DynamoDbServer,
  startDynalite,
  tablesFromTemplate,
} from '#sandbox/aws/dynamodb-tables.js';
import { loadTemplate } from '#scripts/validate-cfn-yaml.js';
import type { RegistryItem, RunReason, RunRecord } from '#shared/registry/items.js';

export const REGISTRY_TABLE = 'IdentityRegistryTable';

/**
 * Starts dynalite, creates the template's tables and points the SDK's DynamoDB clients at it
 * (AWS_ENDPOINT_URL_DYNAMODB): import the modules under test after this resolves. Sets
 * REGISTRY_TABLE_NAME, as the template does for every function that reads the registry.
 */
export async function startRegistryTable(): Promise<DynamoDbServer> {
  const server = await startDynalite();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = server.url;
  process.env.REGISTRY_TABLE_NAME = REGISTRY_TABLE;
  const client = new DynamoDBClient({ endpoint: server.url });
  for (const table of tablesFromTemplate(loadTemplate())) {
    await client.send(new CreateTableCommand(table));
  }
  client.destroy();
  return server;
}

let testClient: { endpoint: string; client: DynamoDBDocumentClient } | undefined;

/**
 * The test's own view of the table, outside the code under test: to set up what other parts of
 * the stack (the state machine's direct DynamoDB tasks) would have written, and to read back.
 */
function tableClient(): DynamoDBDocumentClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (endpoint === undefined) throw new Error('startRegistryTable() first');
  if (testClient?.endpoint !== endpoint) {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }), {
      marshallOptions: { removeUndefinedValues: true },
    });
    testClient = { endpoint, client };
  }
  return testClient.client;
}

/** Empties the registry, so that a test starts from a stack that manages nothing. */
export async function clearRegistryTable(): Promise<void> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await tableClient().send(
      new ScanCommand({
        TableName: REGISTRY_TABLE,
        ProjectionExpression: '#identity',
        ExpressionAttributeNames: { '#identity': 'identity' },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await tableClient().send(new DeleteCommand({ TableName: REGISTRY_TABLE, Key: item }));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** The item of an identity as it is in the table now (strongly consistent). */
export async function registryItem(identity: string): Promise<RegistryItem | undefined> {
  const output = await tableClient().send(
    new GetCommand({ TableName: REGISTRY_TABLE, Key: { identity }, ConsistentRead: true }),
  );
  return output.Item as RegistryItem | undefined;
}

/** Writes an item as it stands, for states the code under test did not reach itself. */
export async function putRegistryItem(item: RegistryItem): Promise<void> {
  await tableClient().send(new PutCommand({ TableName: REGISTRY_TABLE, Item: item }));
}

/**
 * What the state machine's RecordVerified and RecordFailure tasks do when a run ends: the item
 * and its latest run take the run's final status, and the identity is free again.
 */
export async function endRunInRegistry(
  identity: string,
  runId: string,
  status: 'VERIFIED' | 'FAILED' | 'TIMED_OUT',
  endedAt: Date,
  reason: RunReason | null = null,
): Promise<void> {
  await tableClient().send(
    new UpdateCommand({
      TableName: REGISTRY_TABLE,
      Key: { identity },
      UpdateExpression:
        'SET #status = :status, updated_at = :now, latest_run.#status = :status, latest_run.ended_at = :now, latest_run.reason = :reason REMOVE active_run_id, task_token, waiting_kind',
      ConditionExpression: 'active_run_id = :run',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': status,
        ':now': endedAt.toISOString(),
        ':run': runId,
        ':reason': reason,
      },
    }),
  );
}

/** A run as the registry keeps it, PENDING, for `identity`'s state machine execution `id`. */
export function pendingRun(id: string, startedAt: Date, requestHash = `hash-of-${id}`): RunRecord {
  return {
    id,
    execution_arn: `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${id}`,
    operation: 'CreateIdentity',
    request_hash: requestHash,
    started_at: startedAt.toISOString(),
    status: 'PENDING',
    reason: null,
    ended_at: null,
  };
}
