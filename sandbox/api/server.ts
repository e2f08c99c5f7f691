/**
 * The sandbox's HTTP API: the project's API routes served by the real API handlers, called with
 * the event API Gateway (REST, Lambda proxy) would give them, plus the sandbox's own pages: the
 * mailbox SES "sends" address verifications to, their confirmation links, and the events
 * delivered on the bus.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Emulators } from '#sandbox/aws/create-emulators.js';
import type { VirtualClock } from '#sandbox/clock.js';
import type { LocalStateMachine } from '#sandbox/engine/executions.js';

export interface ApiDependencies {
  invoke(functionName: string, event: unknown): Promise<unknown>;
  emulators: Emulators;
  stateMachine: LocalStateMachine;
}

export interface ApiServer {
  url: string;
  port: number;
  /** Connects the routes once the stack behind them is up (the port is needed earlier). */
  attach(dependencies: ApiDependencies): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const jsonReply = (status: number, body: unknown): Reply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const errorReply = (status: number, code: string, message: string): Reply =>
  jsonReply(status, { success: false, error: { code, message } });

/** The REST API (v1) proxy event API Gateway builds for a request. */
export function apiGatewayEvent(
  request: { method: string; url: URL; headers: Record<string, string>; body: string },
  resource: string,
  pathParameters: Record<string, string> | null,
  now: Date,
): APIGatewayProxyEvent {
  const query = request.url.searchParams;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of query) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  const requestId = randomUUID();
  return {
    resource,
    path: request.url.pathname,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: Object.fromEntries(
      Object.entries(request.headers).map(([key, value]) => [key, [value]]),
    ),
    queryStringParameters: query.size > 0 ? single : null,
    multiValueQueryStringParameters: query.size > 0 ? multi : null,
    pathParameters,
    stageVariables: null,
    body: request.body === '' ? null : request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'sandbox',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/sandbox${request.url.pathname}`,
      stage: 'sandbox',
      requestId,
      requestTimeEpoch: now.getTime(),
      resourceId: 'sandbox',
      resourcePath: resource,
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Starts the API server; routes answer 503 until `attach` connects them. */
export async function startApiServer(options: {
  host: string;
  port: number;
  clock: VirtualClock;
}): Promise<ApiServer> {
  let dependencies: ApiDependencies | undefined;

  const route = async (request: IncomingMessage): Promise<Reply> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    // Reading the body is real work; the handler's own SDK calls are counted by the clients,
    // and it may wait on virtual time (an SDK retry backoff), so the call itself is not.
    const body = await options.clock.track(readBody(request));
    if (!dependencies) return errorReply(503, 'INTERNAL_ERROR', 'The sandbox is starting');
    const { invoke, emulators } = dependencies;
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const gatewayRequest = { method, url, headers: headersOf(request), body };

    const callHandler = async (
      functionName: string,
      resource: string,
      pathParameters: Record<string, string> | null,
    ) => {
      const event = apiGatewayEvent(gatewayRequest, resource, pathParameters, options.clock.now());
      const result = (await invoke(functionName, event)) as APIGatewayProxyResult;
      return {
        status: result.statusCode,
        headers: Object.fromEntries(
          Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)]),
        ),
        body: result.body,
      };
    };

    if (segments[0] === 'identities') {
      if (segments.length === 1 && method === 'POST') {
        return callHandler('start-verification', '/identities', null);
      }
      if (segments.length === 2 && method === 'GET') {
        return callHandler('get-identity-status', '/identities/{identity}', {
          identity: segments[1] as string,
        });
      }
      if (segments.length === 3 && segments[2] === 'dkim' && method === 'PUT') {
        return callHandler('request-dkim-change', '/identities/{identity}/dkim', {
          identity: segments[1] as string,
        });
      }
    }
    if (segments[0] === 'sandbox' && method === 'GET') {
      if (segments[1] === 'mailbox' && segments.length === 2) {
        const to = url.searchParams.get('to') ?? undefined;
        return jsonReply(200, { messages: emulators.ses.mailbox(to) });
      }
      if (segments[1] === 'mailbox' && segments.length === 3) {
        const message = emulators.ses.message(segments[2] as string);
        return message
          ? jsonReply(200, message)
          : errorReply(404, 'NOT_FOUND', 'No such message in the sandbox mailbox');
      }
      if (segments[1] === 'confirm' && segments.length === 3) {
        const result = emulators.ses.confirm(segments[2] as string);
        const status = result.status === 'unknown' ? 404 : result.status === 'expired' ? 410 : 200;
        return jsonReply(status, result);
      }
      if (segments[1] === 'events' && segments.length === 2) {
        const detailType = url.searchParams.get('detail-type');
        const identity = url.searchParams.get('identity');
        const events = emulators.events
          .events()
          .filter((event) => !detailType || event['detail-type'] === detailType)
          .filter((event) => !identity || event.detail.identity === identity);
        return jsonReply(200, { events });
      }
      if (segments[1] === 'clock' && segments.length === 2) {
        return jsonReply(200, {
          now: options.clock.now().toISOString(),
          elapsed_seconds: Math.round(options.clock.elapsedMs() / 1000),
        });
      }
    }
    return errorReply(404, 'NOT_FOUND', `No route for ${method} ${url.pathname}`);
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(request)
      .catch((error: unknown) => errorReply(500, 'INTERNAL_ERROR', (error as Error).message))
      .then((reply) => {
        const release = options.clock.busy();
        response.writeHead(reply.status, {
          ...reply.headers,
          'content-length': Buffer.byteLength(reply.body),
        });
        response.end(reply.body, release);
        response.once('close', release);
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    attach: (deps) => {
      dependencies = deps;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
