/**
 * Serves only the emulated AWS services and the DNS server, on the real clock, for conformance
 * checks with independent clients (AWS CLI, boto3), with template.yaml's queues and tables in
 * place. Prints one JSON line with the ports once ready.
 *
 *   SANDBOX_AWS_PORT (default 0 = any), SANDBOX_DNS_PORT (default 0), SANDBOX_ZONES,
 *   SANDBOX_REGION, and the SES and Route 53 rate and fault variables (SANDBOX_SES_RATE_LIMIT...)
 */
import { LOCAL_ACCOUNT } from '#sandbox/asl-runner/definition.js';
import { Deployment, SANDBOX_STACK_NAME } from '#sandbox/deploy/deployment.js';
import { provision } from '#sandbox/deploy/provision.js';
import { regionFromEnv } from '#sandbox/env.js';
import {
  createEmulators,
  route53FromEnv,
  sesFaultsFromEnv,
  zonesFromEnv,
} from './create-emulators.js';
import { startAwsEndpoint } from './endpoint.js';

const awsPort = Number(process.env.SANDBOX_AWS_PORT ?? 0);
const dnsPort = Number(process.env.SANDBOX_DNS_PORT ?? 0);
const region = regionFromEnv();

const emulators = await createEmulators({
  zones: zonesFromEnv(),
  region,
  dns: { port: dnsPort },
  route53InsyncDelayMs: 0,
  route53: route53FromEnv(),
  // On the real clock, so SES checks DNS at every read: conformance clients do not wait minutes.
  ses: { faults: sesFaultsFromEnv(), firstCheckDelayMs: 0, checkIntervalMs: 0 },
});
const endpoint = await startAwsEndpoint({ port: awsPort, services: emulators.services });
emulators.sqs.setBaseUrl(endpoint.url);
const deployment = Deployment.load({
  region,
  account: LOCAL_ACCOUNT,
  stackName: SANDBOX_STACK_NAME,
  awsUrl: endpoint.url,
});
await provision(deployment, emulators, () => new Promise((resolve) => setTimeout(resolve, 5)));
process.stdout.write(
  `${JSON.stringify({ awsUrl: endpoint.url, awsPort: endpoint.port, dnsPort: emulators.dnsServer?.port, region })}\n`,
);

const shutdown = () => {
  void Promise.all([endpoint.close(), emulators.close()]).finally(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
