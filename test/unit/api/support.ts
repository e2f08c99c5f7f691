import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from 'aws-lambda';

/** A sample API Gateway event from events/, as `sam local invoke -e` would send it. */
export function apiEvent(name: string): APIGatewayProxyEventV2 {
  return JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8'));
}

/** The POST sample with another body (an object is serialised as JSON). */
export function postEvent(body: unknown, headers?: Record<string, string>): APIGatewayProxyEventV2 {
  const event = apiEvent('api-start-verification.json');
  return {
    ...event,
    headers: headers ?? event.headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** The GET sample for another identity, as it appears in the path. */
export function getEvent(identity: string): APIGatewayProxyEventV2 {
  const event = apiEvent('api-get-identity-status.json');
  return {
    ...event,
    rawPath: `/identities/${identity}`,
    pathParameters: { identity },
  };
}

/** A PUT /identities/{identity}/dkim event (the to-Easy-DKIM sample) for another identity and body. */
export function putDkimEvent(
  identity: string,
  body: unknown,
  headers?: Record<string, string>,
): APIGatewayProxyEventV2 {
  const event = apiEvent('api-put-dkim-easy-dkim.json');
  return {
    ...event,
    rawPath: `/identities/${identity}/dkim`,
    pathParameters: { identity },
    headers: { ...event.headers, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:api',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/api',
  logStreamName: '2026/01/15/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/** The parsed body of a handler's response. */
// biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field
export function bodyOf(response: APIGatewayProxyResult): any {
  return JSON.parse(response.body);
}

/** An AWS SDK-style service error, for services whose client has no class for it. */
export function sdkError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode },
  });
}
