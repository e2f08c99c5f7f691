/**
 * The contract between the sandbox's one-port AWS endpoint and the services it emulates. The
 * endpoint routes each request by the service name in its SigV4 credential scope (`ses`,
 * `route53`, `events`, `secretsmanager`, `states`), as LocalStack does, so the AWS SDK and the
 * AWS CLI reach every service through one URL.
 */
export interface AwsRequest {
  method: string;
  /** Path without the query string, URL-decoded per segment by the service if it needs to. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
  /**
   * Waits on `work` as idle time: a request that waits for something to happen (an SQS long
   * poll) must not hold the sandbox's virtual clock while it waits. Absent: simply awaits it.
   */
  idle?: <T>(work: Promise<T>) => Promise<T>;
}

export interface AwsResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The error's code when `status` is an error: for the sandbox's call metrics, never sent. */
  errorCode?: string;
}

/** One emulated AWS service, speaking that service's real wire protocol. */
export interface EmulatedService {
  /** The SigV4 signing name requests for this service carry. */
  readonly signingName: string;
  /** The service's name in the AWS CLI and SDKs (`sesv2`, `route53`), for call metrics. */
  readonly serviceName: string;
  /** Every operation the emulator serves, by its API name. */
  readonly operations: readonly string[];
  /** The operation a request calls, or undefined when the emulator knows none by that route. */
  operationOf(request: AwsRequest): string | undefined;
  handle(request: AwsRequest): Promise<AwsResponse>;
}

/** The operation of a JSON protocol request: `X-Amz-Target: AWSEvents.PutEvents` → PutEvents. */
export function targetOperation(request: AwsRequest): string | undefined {
  const target = request.headers['x-amz-target'];
  return target?.slice(target.lastIndexOf('.') + 1) || undefined;
}
