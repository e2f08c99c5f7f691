/**
 * Where the commands send their requests: the local sandbox (the default), a deployed stack's API
 * by URL (`--api-url`) or by stack name (`--stack`). A deployed API is called SigV4-signed with
 * the SDK's default credential chain, as the template's AWS_IAM authorizer requires.
 */
import {
  loadConfig,
  NODE_REGION_CONFIG_FILE_OPTIONS,
  NODE_REGION_CONFIG_OPTIONS,
} from '@smithy/core/config';
import type { Target } from './api-client.js';
import { UsageError } from './errors.js';
import { createSigner, defaultCredentials, regionOfApiUrl } from './sigv4.js';
import { apiUrlOfStack, cloudFormationClient } from './stack-outputs.js';

export interface TargetOptions {
  'api-url'?: string | undefined;
  stack?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  unsigned?: boolean | undefined;
}

/** The sandbox's API port when SANDBOX_API_PORT does not move it (DESIGN.md). */
export const SANDBOX_API_PORT = 3000;

/** The sandbox's API on this machine, at the port `npm run sandbox` opens. */
export function sandboxUrl(env: Record<string, string | undefined>): URL {
  const raw = env.SANDBOX_API_PORT;
  const port = raw === undefined || raw === '' ? SANDBOX_API_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`SANDBOX_API_PORT must be a port number, got ${raw}`);
  }
  return new URL(`http://127.0.0.1:${port}`);
}

function parseApiUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `--api-url ${raw} is not a URL (https://{api-id}.execute-api.{region}.amazonaws.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--api-url ${raw} must be http(s)`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`--api-url ${raw} must have no query or fragment`);
  }
  return url;
}

/** The Region the SDK would use: AWS_REGION, then the profile's `region`. */
async function sdkRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    // An empty AWS_REGION is no Region (the SDK would sign for "").
    return (
      (await loadConfig(NODE_REGION_CONFIG_OPTIONS, {
        ...NODE_REGION_CONFIG_FILE_OPTIONS,
        ...(profile !== undefined && { profile }),
      })()) || undefined
    );
  } catch {
    return undefined;
  }
}

/** Resolves the target named by the options (reading the stack's outputs for --stack). */
export async function resolveTarget(
  options: TargetOptions,
  env: Record<string, string | undefined>,
): Promise<Target> {
  const apiUrl = options['api-url'];
  const { stack, profile } = options;
  if (apiUrl !== undefined && stack !== undefined) {
    throw new UsageError('Name the API one way: --api-url or --stack, not both');
  }
  if (options.unsigned && apiUrl === undefined) {
    throw new UsageError(
      '--unsigned goes with --api-url (the sandbox is never signed; a stack always is)',
    );
  }
  const credentials = () => defaultCredentials(profile);

  if (apiUrl !== undefined) {
    const baseUrl = parseApiUrl(apiUrl);
    if (options.unsigned) return { kind: 'api-url', baseUrl, label: baseUrl.href };
    const region = options.region ?? regionOfApiUrl(baseUrl) ?? (await sdkRegion(profile));
    if (region === undefined) {
      throw new UsageError(
        `Cannot tell the AWS Region of ${baseUrl.host} to sign for: pass --region (or set AWS_REGION)`,
      );
    }
    return {
      kind: 'api-url',
      baseUrl,
      label: baseUrl.href,
      signer: createSigner({ region, credentials: credentials() }),
    };
  }

  if (stack !== undefined) {
    const provider = credentials();
    const client = cloudFormationClient({
      credentials: provider,
      ...(options.region !== undefined && { region: options.region }),
      ...(profile !== undefined && { profile }),
    });
    try {
      const { apiUrl: url, region } = await apiUrlOfStack(stack, client);
      const baseUrl = parseApiUrl(url);
      return {
        kind: 'stack',
        baseUrl,
        label: `${baseUrl.href} (stack ${stack})`,
        signer: createSigner({ region: regionOfApiUrl(baseUrl) ?? region, credentials: provider }),
      };
    } finally {
      client.destroy();
    }
  }

  const baseUrl = sandboxUrl(env);
  return { kind: 'sandbox', baseUrl, label: `the sandbox at ${baseUrl.origin}` };
}
