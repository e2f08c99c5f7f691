import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { explainListenError, type PortSpec } from '#sandbox/ports.js';
import { type CallMetrics, outcomeOf } from './metrics.js';
import type { AwsRequest, AwsResponse, EmulatedService } from './service.js';

export interface AwsEndpointOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  services: EmulatedService[];
  /** Requests wait until this settles (a stack still booting answers nothing). */
  ready?: Promise<unknown>;
  /** The variable that moves the port, for the error when it is taken. */
  variable?: string;
  /** Counts each call by service operation and outcome. */
  metrics?: CallMetrics;
}

export interface AwsEndpoint {
  /** Starts accepting connections; a taken port is a PortInUseError. */
  listen(): Promise<void>;
  readonly url: string;
  readonly port: number;
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
    // The services' own time (the sandbox's virtual clock, where it runs): the SDKs correct
    // their clock skew from this header, and retry an error whose answer moved their offset.
    date: new Date().toUTCString(),
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Creates the sandbox's one-port AWS endpoint (not yet listening): one HTTP server that routes
 * every request to the emulated service named in its SigV4 credential scope, as LocalStack does,
 * so SDK clients and the AWS CLI reach every service through one URL.
 */
export function createAwsEndpoint(options: AwsEndpointOptions): AwsEndpoint {
  const host = options.host ?? '127.0.0.1';
  const spec: PortSpec = {
    port: options.port,
    host,
    variable: options.variable ?? 'SANDBOX_AWS_PORT',
  };
  const ready = options.ready ?? Promise.resolve();
  const services = new Map(options.services.map((service) => [service.signingName, service]));

  const server = createServer((request, response) => {
    void (async () => {
      let result: AwsResponse;
      try {
        const body = await readBody(request);
        await ready;
        const awsRequest = toAwsRequest(request, body);
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
          options.metrics?.record(
            service.serviceName,
            service.operationOf(awsRequest) ?? 'UnknownOperation',
            outcomeOf(result),
          );
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

  let port = spec.port;
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: unknown) => reject(explainListenError(error, spec, 'TCP'));
        server.once('error', onError);
        server.listen(spec.port, host, () => {
          server.off('error', onError);
          port = (server.address() as AddressInfo).port;
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Creates the endpoint and starts it at once (emulators used on their own). */
export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const endpoint = createAwsEndpoint(options);
  await endpoint.listen();
  return endpoint;
}
