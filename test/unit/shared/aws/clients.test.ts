import { afterEach, describe, expect, it, vi } from 'vitest';

/** The names of the middleware a client runs on every call. */
async function middlewareOf(
  module: string,
  exportName: string,
): Promise<{ names: string[]; tracingEnabled: boolean }> {
  const clients = (await import(module)) as Record<
    string,
    { middlewareStack: { identify(): string[] } }
  >;
  const { tracer } = await import('#shared/runtime/observability.js');
  const client = clients[exportName];
  if (client === undefined) throw new Error(`${module} exports no ${exportName}`);
  return { names: client.middlewareStack.identify(), tracingEnabled: tracer.isTracingEnabled() };
}

const CLIENTS = [
  ['#shared/aws/clients/sesv2.js', 'sesv2Client'],
  ['#shared/aws/clients/route53.js', 'route53Client'],
  ['#shared/aws/clients/secrets-manager.js', 'secretsManagerClient'],
  ['#shared/aws/clients/sfn.js', 'sfnClient'],
] as const;

describe('the SDK clients', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it.each(CLIENTS)('%s is traced in Lambda: X-Ray instruments every call', async (module, name) => {
    // Lambda sets AWS_EXECUTION_ENV; the tracer switches itself on only then.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.resetModules();

    const { names, tracingEnabled } = await middlewareOf(module, name);

    expect(tracingEnabled).toBe(true);
    expect(names.some((n) => n.startsWith('XRaySDKInstrumentation'))).toBe(true);
  });

  it.each(CLIENTS)(
    '%s is left as the SDK made it outside Lambda (tests, the sandbox)',
    async (module, name) => {
      vi.stubEnv('AWS_EXECUTION_ENV', '');
      vi.resetModules();

      const { names, tracingEnabled } = await middlewareOf(module, name);

      expect(tracingEnabled).toBe(false);
      expect(names.some((n) => n.startsWith('XRaySDKInstrumentation'))).toBe(false);
    },
  );
});
