/**
 * Serves only the emulated AWS services and the DNS server, on the real clock, for conformance
 * checks with independent clients (AWS CLI, boto3). Prints one JSON line with the ports once ready.
 *
 *   SANDBOX_AWS_PORT (default 0 = any), SANDBOX_DNS_PORT (default 0), SANDBOX_ZONES
 */
import { createEmulators, sesFaultsFromEnv, zonesFromEnv } from './create-emulators.js';
import { startAwsEndpoint } from './endpoint.js';

const awsPort = Number(process.env.SANDBOX_AWS_PORT ?? 0);
const dnsPort = Number(process.env.SANDBOX_DNS_PORT ?? 0);

const emulators = await createEmulators({
  zones: zonesFromEnv(),
  dns: { port: dnsPort },
  route53InsyncDelayMs: 0,
  // On the real clock, so SES checks DNS at every read: conformance clients do not wait minutes.
  ses: { faults: sesFaultsFromEnv(), firstCheckDelayMs: 0, checkIntervalMs: 0 },
});
const endpoint = await startAwsEndpoint({ port: awsPort, services: emulators.services });
process.stdout.write(
  `${JSON.stringify({ awsUrl: endpoint.url, awsPort: endpoint.port, dnsPort: emulators.dnsServer?.port })}\n`,
);

const shutdown = () => {
  void Promise.all([endpoint.close(), emulators.close()]).finally(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
