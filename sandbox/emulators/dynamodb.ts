/**
 * Amazon DynamoDB behind the sandbox's one endpoint: requests signed for `dynamodb`
 * (`X-Amz-Target: DynamoDB_20120810.*`) are handed as they are to dynalite, DynamoDB's wire
 * protocol on an in-memory LevelDB, in this process; its answers (CRC32 header included, which
 * botocore checks) come back unchanged. The tables are template.yaml's.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type DynamoDbServer, startDynalite } from '#sandbox/aws/dynamodb-tables.js';
import {
  type AwsRequest,
  type AwsResponse,
  type EmulatedService,
  targetOperation,
} from '#sandbox/aws/service.js';

/** Headers that describe one connection, not the message: never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'host',
]);

export class DynamoDbEmulator implements EmulatedService {
  readonly signingName = 'dynamodb';
  readonly serviceName = 'dynamodb';
  /** The operations dynalite serves. */
  readonly operations = [
    'BatchGetItem',
    'BatchWriteItem',
    'CreateTable',
    'DeleteItem',
    'DeleteTable',
    'DescribeTable',
    'DescribeTimeToLive',
    'GetItem',
    'ListTables',
    'ListTagsOfResource',
    'PutItem',
    'Query',
    'Scan',
    'TagResource',
    'UntagResource',
    'UpdateItem',
    'UpdateTable',
    'UpdateTimeToLive',
  ] as const;
  readonly operationOf = targetOperation;

  private constructor(private readonly server: DynamoDbServer) {}

  /** Starts dynalite on a free loopback port. */
  static async start(): Promise<DynamoDbEmulator> {
    return new DynamoDbEmulator(await startDynalite());
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const query = request.query.toString();
    const response = await this.server.dispatch(
      request.method,
      query === '' ? request.path : `${request.path}?${query}`,
      headers,
      request.body,
    );
    const errorType = response.status >= 400 ? errorTypeOf(response.body) : undefined;
    return { ...response, ...(errorType !== undefined && { errorCode: errorType }) };
  }

  /**
   * Creates tables (CreateTable's input each) and waits until they are ACTIVE: dynalite takes a
   * timer's turn to get there, which the sandbox's clock must be let to fire.
   */
  async createTables(tables: CreateTableCommandInput[], pause: () => Promise<void>): Promise<void> {
    for (const table of tables) {
      await this.call('CreateTable', table);
      for (;;) {
        const described = (await this.call('DescribeTable', { TableName: table.TableName })) as {
          Table?: { TableStatus?: string };
        };
        if (described.Table?.TableStatus === 'ACTIVE') break;
        await pause();
      }
    }
  }

  private async call(operation: string, input: unknown): Promise<unknown> {
    const response = await this.server.dispatch(
      'POST',
      '/',
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        // dynalite wants a signature's shape, not a valid one.
        authorization:
          'AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20260101T000000Z',
      },
      Buffer.from(JSON.stringify(input)),
    );
    const body = JSON.parse(response.body.toString('utf8')) as unknown;
    if (response.status >= 400) throw new Error(`DynamoDB ${operation}: ${JSON.stringify(body)}`);
    return body;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → its last part. */
function errorTypeOf(body: Buffer): string | undefined {
  try {
    const type = (JSON.parse(body.toString('utf8')) as { __type?: string }).__type;
    return type?.slice(type.lastIndexOf('#') + 1);
  } catch {
    return undefined;
  }
}
