/**
 * DynamoDB for the sandbox and the tests: dynalite (DynamoDB's wire protocol on an in-memory
 * LevelDB, in this process) with the tables template.yaml declares, created from their
 * definitions there, so that the key schema and indexes the code queries are the deployed ones.
 */
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
// Every item stays in its indexes, whatever its index key shares with others' (as in DynamoDB).
import './dynalite-index-keys.js';
import { type CfnTemplate, resourcesOfType } from '#scripts/validate-cfn-yaml.js';

/** The table names the sandbox gives the template's tables: their logical IDs. */
export function tableNameOf(logicalId: string): string {
  return logicalId;
}

/**
 * CreateTable's input for a table declared with these properties: attributes, keys and indexes
 * as declared; what dynalite ignores (billing, recovery, protection) is left out.
 */
export function createTableInput(
  name: string,
  properties: Record<string, unknown>,
): CreateTableCommandInput {
  const input = {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: properties.AttributeDefinitions,
    KeySchema: properties.KeySchema,
    GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes,
  };
  return input as CreateTableCommandInput;
}

/** CreateTable requests for every AWS::DynamoDB::Table in the template. */
export function tablesFromTemplate(template: CfnTemplate): CreateTableCommandInput[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table').map(([logicalId, table]) =>
    createTableInput(tableNameOf(logicalId), (table.Properties ?? {}) as Record<string, unknown>),
  );
}

/** One answer of dynalite's. */
export interface DynamoDbAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A dynalite server on `host:port` (0: a free port). */
export interface DynamoDbServer {
  url: string;
  port: number;
  /**
   * Hands a request to dynalite's request handler in this process, without a socket: what it
   * answers over HTTP, less the cost of a second HTTP hop for every call the sandbox forwards.
   */
  dispatch(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<DynamoDbAnswer>;
  close(): Promise<void>;
}

export async function startDynalite(host = '127.0.0.1', port = 0): Promise<DynamoDbServer> {
  // Tables are usable at once, as they are in the sandbox's account from the start.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  const [handler] = server.listeners('request') as ((
    request: unknown,
    response: unknown,
  ) => void)[];
  if (!handler) throw new Error('dynalite has no request handler');
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    dispatch: (method, path, headers, body) =>
      new Promise((resolve) => {
        // What dynalite's handler uses of a request and a response: events, headers, end().
        const request = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
          method,
          url: path,
          headers,
        });
        const answer: Record<string, string> = {};
        const response = {
          statusCode: 200,
          contentType: undefined as string | undefined,
          shouldKeepAlive: true,
          setHeader: (name: string, value: unknown) => {
            answer[name.toLowerCase()] = String(value);
          },
          end: (text?: string | Buffer) => {
            resolve({
              status: response.statusCode,
              headers: answer,
              body: Buffer.from(text ?? ''),
            });
          },
        };
        handler(request, response);
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
