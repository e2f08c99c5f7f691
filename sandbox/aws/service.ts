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
}

export interface AwsResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One emulated AWS service, speaking that service's real wire protocol. */
export interface EmulatedService {
  /** The SigV4 signing name requests for this service carry. */
  readonly signingName: string;
  handle(request: AwsRequest): Promise<AwsResponse>;
}
