/**
 * SigV4 signing of the HTTP API's requests (service `execute-api`), as the template's AWS_IAM
 * authorization requires (API Gateway invokes an IAM-authorised HTTP API route only for a
 * SigV4-signed request whose signer has execute-api:Invoke on it:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html): the AWS SDK's own signer (@smithy/signature-v4, with the SDK's SHA-256)
 * and credentials from the SDK's default chain, never a signer of our own.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials as the signer takes them: fixed, or a provider the SDK's chain gives. */
export type SigningCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** A request about to be sent: the URL exactly as it goes on the wire. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers to send: the request's own, plus Authorization and X-Amz-* headers. */
export type RequestSigner = (
  request: OutgoingRequest,
  signingDate?: Date,
) => Promise<Record<string, string>>;

/** API Gateway's default host names carry the Region: `{api-id}.execute-api.{region}.amazonaws.com`. */
const EXECUTE_API_HOST = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** The Region in an execute-api host name, or undefined for a custom domain or a local URL. */
export function regionOfApiUrl(url: URL): string | undefined {
  return EXECUTE_API_HOST.exec(url.hostname)?.[1];
}

/** The SDK's default credential chain (environment, SSO, shared files, container, instance). */
export function defaultCredentials(profile: string | undefined): SigningCredentials {
  return defaultProvider(profile === undefined ? {} : { profile });
}

/** A signer for `service` in `region`. */
export function createSigner(options: {
  region: string;
  credentials: SigningCredentials;
  service?: string;
}): RequestSigner {
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    // X-Amz-Content-SHA256 is S3's; API Gateway hashes the body into the signature as it is.
    applyChecksum: false,
  });
  return async (request, signingDate) => {
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] =
        existing === undefined
          ? value
          : Array.isArray(existing)
            ? [...existing, value]
            : [existing, value];
    }
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port !== '' && { port: Number(url.port) }),
        // As sent (percent-encoded once); the signer encodes it again, as SigV4 wants for
        // every service but S3.
        path: url.pathname,
        query,
        // `url.host` carries a non-default port, as the Host header fetch sends does.
        headers: { ...request.headers, host: url.host },
        ...(request.body !== undefined && { body: request.body }),
      }),
      signingDate === undefined ? {} : { signingDate },
    );
    return signed.headers;
  };
}
