/**
 * The sandbox's HTTP API, standing in for API Gateway's HTTP API: the project's routes served by
 * the real API handlers, each called with the payload format 2.0 event the deployed HTTP API
 * sends, plus the sandbox's own pages (the mailbox SES "sends" address verifications to, their
 * confirmation links, the events delivered on the bus, the clock, health and call metrics, and
 * the local console with the executions it draws).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { finished } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { Emulators } from '#sandbox/aws/create-emulators.js';
import type { VirtualClock } from '#sandbox/clock.js';
import { consoleRoutes } from '#sandbox/console/routes.js';
import type { RouteSpec } from '#sandbox/deploy/deployment.js';
import type { LocalStateMachine } from '#sandbox/engine/executions.js';
import { explainListenError, type PortSpec } from '#sandbox/ports.js';

export interface ApiDependencies {
  invoke(functionName: string, event: unknown): Promise<unknown>;
  emulators: Emulators;
  /** The HTTP API's routes, as template.yaml declares them (its AWS::ApiGatewayV2::Route). */
  routes: RouteSpec[];
  /** Calls per emulated service operation, for GET /sandbox/metrics. */
  metrics(): unknown;
  /** The state machine, its definition and executions, for the local console. */
  stateMachine: LocalStateMachine;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const jsonReply = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** The project's error envelope, for the sandbox's own pages. */
const errorReply = (status: number, code: string, message: string): Reply =>
  jsonReply(status, { success: false, error: { code, message } });

/** What API Gateway itself answers when no route takes a request: `{"message": ...}`. */
const gatewayReply = (status: number, message: string, headers?: Record<string, string>): Reply =>
  jsonReply(status, { message }, headers);

/** A request as the router sees it: the path already split and decoded once. */
interface Request {
  method: string;
  url: URL;
  /** The decoded path, as API Gateway's HTTP API passes it in `rawPath`. */
  path: string;
  segments: string[];
  headers: Record<string, string>;
  body: string;
}

type Page = (request: Request, parameters: Record<string, string>) => Reply | Promise<Reply>;

/** One route: `METHOD /path/{parameter}`, served by an API handler or a sandbox page. */
interface Route {
  method: string;
  path: string;
  functionName?: string;
  page?: Page;
}

/** The parameters of `path` if it matches `template` (`/identities/{identity}`), else undefined. */
function match(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index] as string;
    if (part.startsWith('{') && part.endsWith('}')) {
      if (segment === '') return undefined;
      parameters[part.slice(1, -1)] = segment;
    } else if (part !== segment) {
      return undefined;
    }
  }
  return parameters;
}

/** `23/Nov/2026:10:00:00 +0000`: HTTP API's `requestContext.time`. */
function requestTime(now: Date): string {
  const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`
  );
}

/**
 * The payload format 2.0 event API Gateway's HTTP API gives a Lambda proxy integration
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
 * The HTTP API decodes the path before it routes: `rawPath` and `pathParameters` arrive decoded
 * (aws/aws-lambda-dotnet#1901; live captures cited in middleapi/standard-server#93), so the
 * handlers never decode them again.
 */
export function httpApiEvent(
  request: Request,
  routeKey: string,
  pathParameters: Record<string, string>,
  now: Date,
): APIGatewayProxyEventV2 {
  const query: Record<string, string> = {};
  for (const [key, value] of request.url.searchParams) {
    // Repeated parameters are joined with commas, as HTTP APIs do.
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  const { cookie, ...headers } = request.headers;
  const host = request.headers.host ?? 'localhost';
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath: request.path,
    rawQueryString: request.url.search.replace(/^\?/, ''),
    ...(cookie !== undefined && { cookies: cookie.split(';').map((part) => part.trim()) }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'sandbox',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    ...(request.body !== '' && { body: request.body }),
    isBase64Encoded: false,
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

/** Splits and decodes the path once; undefined when its percent-encoding is malformed. */
function decodePath(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export interface ApiServer {
  /** Starts accepting connections; a taken port is a PortInUseError. */
  listen(): Promise<void>;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The sandbox's pages, served beside the API's routes. */
function sandboxRoutes(dependencies: ApiDependencies, clock: VirtualClock): Route[] {
  const { emulators } = dependencies;
  return [
    {
      method: 'GET',
      path: '/sandbox/health',
      // The ports open only once the stack is ready, so whoever can ask gets a yes.
      page: () => jsonReply(200, { ready: true }),
    },
    {
      method: 'GET',
      path: '/sandbox/metrics',
      page: () => jsonReply(200, { calls: dependencies.metrics() }),
    },
    {
      method: 'GET',
      path: '/sandbox/mailbox',
      page: (request) =>
        jsonReply(200, {
          messages: emulators.ses.mailbox(request.url.searchParams.get('to') ?? undefined),
        }),
    },
    {
      method: 'GET',
      path: '/sandbox/mailbox/{id}',
      page: (_request, { id }) => {
        const message = emulators.ses.message(id as string);
        return message
          ? jsonReply(200, message)
          : errorReply(404, 'NOT_FOUND', 'No such message in the sandbox mailbox');
      },
    },
    {
      method: 'GET',
      path: '/sandbox/confirm/{token}',
      page: (_request, { token }) => {
        const result = emulators.ses.confirm(token as string);
        const status = result.status === 'unknown' ? 404 : result.status === 'expired' ? 410 : 200;
        return jsonReply(status, result);
      },
    },
    {
      method: 'GET',
      path: '/sandbox/events',
      page: (request) => {
        const detailType = request.url.searchParams.get('detail-type');
        const identity = request.url.searchParams.get('identity');
        // `after`: only the events delivered after the one with this id, so a follower asks
        // for what is new instead of the whole list (an id the sandbox never delivered: all).
        const after = request.url.searchParams.get('after');
        const delivered = emulators.events.events();
        const cursor = after ? delivered.findIndex((event) => event.id === after) : -1;
        const events = delivered
          .slice(cursor + 1)
          .filter((event) => !detailType || event['detail-type'] === detailType)
          .filter((event) => !identity || event.detail.identity === identity);
        // `limit`: the latest so many, for a page that polls.
        const limit = Number(request.url.searchParams.get('limit') ?? Number.NaN);
        return jsonReply(200, {
          events: Number.isInteger(limit) && limit > 0 ? events.slice(-limit) : events,
        });
      },
    },
    {
      method: 'GET',
      path: '/sandbox/clock',
      page: () =>
        jsonReply(200, {
          now: clock.now().toISOString(),
          elapsed_seconds: Math.round(clock.elapsedMs() / 1000),
        }),
    },
    ...consoleRoutes(dependencies.stateMachine, clock),
  ];
}

/**
 * Creates the API server (not yet listening). Each request is routed once, on its path decoded
 * once: an API route calls its handler with the HTTP API's event and answers with the handler's
 * result; no matching path is 404, a known path with another method 405 (with `Allow`), and a
 * path whose percent-encoding is malformed 400, in API Gateway's `{"message"}` form. Requests
 * wait for `ready`, which brings what the routes need once the stack is up.
 */
export function createApiServer(options: {
  host: string;
  port: number;
  clock: VirtualClock;
  ready: Promise<ApiDependencies>;
  /** The variable that moves the port, for the error when it is taken. */
  variable?: string;
}): ApiServer {
  const { clock } = options;
  const spec: PortSpec = {
    port: options.port,
    host: options.host,
    variable: options.variable ?? 'SANDBOX_API_PORT',
  };
  const routes = options.ready.then((dependencies) => ({
    dependencies,
    table: [...dependencies.routes, ...sandboxRoutes(dependencies, clock)] as Route[],
  }));

  const route = async (incoming: IncomingMessage): Promise<Reply> => {
    const url = new URL(incoming.url ?? '/', 'http://localhost');
    const method = incoming.method ?? 'GET';
    // Reading the body is real work; the handler runs under the clock's runWork.
    const body = await clock.track(readBody(incoming));
    const { dependencies, table } = await routes;
    const segments = decodePath(url.pathname);
    if (segments === undefined) return gatewayReply(400, 'Bad Request');
    const request: Request = {
      method,
      url,
      path: `/${segments.join('/')}`,
      segments,
      headers: headersOf(incoming),
      body,
    };

    const matching = table
      .map((candidate) => ({ candidate, parameters: match(candidate.path, segments) }))
      .filter((found) => found.parameters !== undefined);
    const chosen = matching.find((found) => found.candidate.method === method);
    if (!chosen) {
      if (matching.length === 0) return gatewayReply(404, 'Not Found');
      const allow = [...new Set(matching.map((found) => found.candidate.method))].join(', ');
      return gatewayReply(405, 'Method Not Allowed', { allow });
    }
    const { candidate, parameters = {} } = chosen;
    if (candidate.page) return candidate.page(request, parameters);

    const routeKey = `${candidate.method} ${candidate.path}`;
    const event = httpApiEvent(request, routeKey, parameters, clock.now());
    const result = (await dependencies.invoke(
      candidate.functionName as string,
      event,
    )) as APIGatewayProxyResult;
    return {
      status: result.statusCode,
      headers: Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)]),
      ),
      body: result.body,
    };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(request)
      .catch((error: unknown) => errorReply(500, 'INTERNAL_ERROR', (error as Error).message))
      .then((reply) => {
        // Writing the reply is real work until the response is done or the client is gone;
        // `finished` calls back even when the client hung up before the reply was ready.
        const release = clock.busy();
        finished(response, () => release());
        response.writeHead(reply.status, {
          ...reply.headers,
          'content-length': Buffer.byteLength(reply.body),
        });
        response.end(reply.body);
      });
  });
  server.keepAliveTimeout = 5_000;
  let port = spec.port;
  return {
    get url() {
      return `http://${spec.host}:${port}`;
    },
    get port() {
      return port;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: unknown) => reject(explainListenError(error, spec, 'TCP'));
        server.once('error', onError);
        server.listen(spec.port, spec.host, () => {
          server.off('error', onError);
          port = (server.address() as AddressInfo).port;
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
