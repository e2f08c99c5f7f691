import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsRequest, AwsResponse, EmulatedService } from './service.js';

export interface AwsEndpointOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  services: EmulatedService[];
}

export interface AwsEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

// `Credential=AKID/20260101/us-east-1/ses/aws4_request`: the fourth scope part is the service.
const CREDENTIAL_SCOPE = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/;

/** The SigV4 signing name a request carries, from its header or a presigned query. */
export function signingNameOf(
  headers: Record<string, string>,
  query: URLSearchParams,
): string | undefined {
  const authorization = headers.authorization;
  if (authorization) return CREDENTIAL_SCOPE.exec(authorization)?.[1];
  const credential = query.get('X-Amz-Credential');
  return credential?.split('/')[3];
}

function errorResponse(status: number, code: string, message: string): AwsResponse {
  // Both JSON error conventions at once, so whichever protocol the client speaks names the error.
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': code },
    body: JSON.stringify({ __type: code, message, Message: message }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function toAwsRequest(request: IncomingMessage, body: Buffer): AwsRequest {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined)
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
  };
}

function send(response: ServerResponse, result: AwsResponse): void {
  const body = result.body ?? '';
  response.writeHead(result.status, {
    'x-amzn-requestid': randomUUID(),
    ...result.headers,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Starts the sandbox's one-port AWS endpoint: one HTTP server that routes every request to the
 * emulated service named in its SigV4 credential scope, as LocalStack does, so SDK clients and
 * the AWS CLI reach every service through one URL.
 */
export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const services = new Map(options.services.map((service) => [service.signingName, service]));

  const server = createServer((request, response) => {
    void (async () => {
      let result: AwsResponse;
      try {
        const awsRequest = toAwsRequest(request, await readBody(request));
        const signingName = signingNameOf(awsRequest.headers, awsRequest.query);
        const service = signingName ? services.get(signingName) : undefined;
        if (!signingName) {
          result = errorResponse(
            403,
            'MissingAuthenticationTokenException',
            'Request is missing a SigV4 Authentication header.',
          );
        } else if (!service) {
          result = errorResponse(
            400,
            'UnknownServiceException',
            `The sandbox does not emulate the service '${signingName}'. Emulated: ${[...services.keys()].join(', ')}.`,
          );
        } else {
          result = await service.handle(awsRequest);
        }
      } catch (error) {
        // An emulator bug must still reach the client as a 5xx, not a hung connection.
        result = errorResponse(500, 'InternalFailure', (error as Error).message);
      }
      send(response, result);
    })();
  });
  // SDK clients keep connections alive; do not let an idle one hold close() open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
