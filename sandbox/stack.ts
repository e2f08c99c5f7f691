/**
 * Boots the whole sandbox in this process: the virtual clock, the emulated AWS services behind
 * one endpoint, the DNS server, the state machine run by aws-local-stepfunctions with its Tasks
 * bound to the real handlers in functions/, and (optionally) the HTTP API. The handlers are
 * imported only after their environment points at the sandbox, exactly as Lambda would start
 * them, so one process holds one stack.
 */
import '#sandbox/asl-runner/promise-with-resolvers.js';
// Before anything that binds node:crypto or node:dns at load time.
import '#sandbox/engine/real-work.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type ApiDependencies, createApiServer } from '#sandbox/api/server.js';
import { LOCAL_ACCOUNT, loadDefinition } from '#sandbox/asl-runner/definition.js';
import { importHandler, importStepHandlers } from '#sandbox/asl-runner/handlers.js';
import { type LambdaHandler, lambdaContext } from '#sandbox/asl-runner/local-tasks.js';
import { createEmulators, type Emulators } from '#sandbox/aws/create-emulators.js';
import { createAwsEndpoint } from '#sandbox/aws/endpoint.js';
import { CallMetrics } from '#sandbox/aws/metrics.js';
import type { EmulatedService } from '#sandbox/aws/service.js';
import { createDnsServer, type SandboxDnsServer } from '#sandbox/dns/server.js';
import type { Route53EmulatorOptions } from '#sandbox/emulators/route53.js';
import type { FaultOptions } from '#sandbox/emulators/wire.js';
import { LocalStateMachine } from '#sandbox/engine/executions.js';
import { StepFunctionsService } from '#sandbox/engine/sfn-service.js';
import { assertPortFree, type PortSpec } from '#sandbox/ports.js';
import { VirtualClock } from './clock.js';

/** The API's Lambda functions, by folder name under functions/api/. */
export const API_FUNCTIONS = [
  'start-verification',
  'get-identity-status',
  'request-dkim-change',
] as const;

export const STATE_MACHINE_NAME = 'VerifyEmailIdentity';
export const EVENT_BUS_NAME = 'ses-identity-verifier';
export const EVENT_SOURCE = 'ses-identity-verifier';
export const KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-keys/';

export interface StackOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  awsPort?: number;
  dnsPort?: number;
  /** The HTTP API's port; `false` starts no API. */
  apiPort?: number | false;
  /** Hosted zones created at start. Default `['example.com']`. */
  zones?: string[];
  /** SES's rate and faults (its documented rate by default). */
  sesFaults?: FaultOptions;
  /** Route 53's rate and faults (its documented account rate by default). */
  route53?: Pick<Route53EmulatorOptions, 'faults' | 'priorRequestRate'>;
  /** At most this many virtual ms per real ms (SANDBOX_TIME_SCALE); as fast as idle allows by default. */
  maxSpeed?: number;
  /** The AWS region the sandbox pretends to be in. Default us-east-1. */
  region?: string;
  /** Powertools log level of the handlers. Default SILENT: stdout belongs to the CLI's output. */
  logLevel?: string;
}

export interface SandboxClients {
  sfn: SFNClient;
  sesv2: SESv2Client;
  route53: Route53Client;
  eventBridge: EventBridgeClient;
  secretsManager: SecretsManagerClient;
}

export interface SandboxStack {
  clock: VirtualClock;
  emulators: Emulators;
  /** The DNS server SES and the steps query (fault injection: `failName`). */
  dnsServer: SandboxDnsServer;
  stateMachine: LocalStateMachine;
  awsUrl: string;
  awsPort: number;
  dnsPort: number;
  apiUrl: string | undefined;
  region: string;
  /** Calls per emulated service operation (GET /sandbox/metrics). */
  metrics: CallMetrics;
  /** SDK clients pointed at the sandbox, their requests counted by the clock. */
  clients: SandboxClients;
  /** Calls a Lambda handler of functions/ in-process, with a Lambda-like context. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

let booted = false;

/** The variables that move the sandbox's ports, named in the error when a port is taken. */
export const PORT_VARIABLES = {
  api: 'SANDBOX_API_PORT',
  aws: 'SANDBOX_AWS_PORT',
  dns: 'SANDBOX_DNS_PORT',
} as const;

/**
 * Boots the sandbox. One per process: the handlers read their environment once, at import.
 *
 * A fixed port that is taken fails at once (PortInUseError, naming it and its variable), before
 * anything else starts. The ports accept connections only once the stack is ready: a fixed port
 * is opened last; a port left to the system (0) is bound early, since the handlers need the
 * endpoint's address before they load, and answers nothing before the stack is ready (nobody
 * else knows it until then anyway).
 */
export async function startStack(options: StackOptions = {}): Promise<SandboxStack> {
  if (booted) throw new Error('The sandbox stack is already running in this process');
  booted = true;
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const ports = {
    api: {
      port: options.apiPort === false ? 0 : (options.apiPort ?? 0),
      host,
      variable: PORT_VARIABLES.api,
    },
    aws: { port: options.awsPort ?? 0, host, variable: PORT_VARIABLES.aws },
    dns: { port: options.dnsPort ?? 0, host, variable: PORT_VARIABLES.dns },
  } satisfies Record<string, PortSpec>;
  try {
    if (options.apiPort !== false) await assertPortFree(ports.api, ['TCP']);
    await assertPortFree(ports.aws, ['TCP']);
    await assertPortFree(ports.dns, ['UDP', 'TCP']);
  } catch (error) {
    booted = false;
    throw error;
  }

  const clock = new VirtualClock(
    options.maxSpeed === undefined ? {} : { maxSpeed: options.maxSpeed },
  );
  clock.install();

  // Every request to a server of the sandbox is real work until its response is written.
  const tracked = (service: EmulatedService): EmulatedService => ({
    signingName: service.signingName,
    serviceName: service.serviceName,
    operations: service.operations,
    operationOf: (request) => service.operationOf(request),
    handle: (request) => clock.track(service.handle(request)),
  });

  let openApi!: (dependencies: ApiDependencies) => void;
  const apiReady = new Promise<ApiDependencies>((resolve) => {
    openApi = resolve;
  });
  const ready = apiReady.then(() => undefined);

  const emulators = await createEmulators({
    now: () => clock.now(),
    region,
    zones: options.zones ?? ['example.com'],
    dns: false,
    ses: { ...(options.sesFaults && { faults: options.sesFaults }) },
    ...(options.route53 && { route53: options.route53 }),
  });
  const states = new StepFunctionsService();
  const metrics = new CallMetrics([...emulators.services, states]);
  const api =
    options.apiPort === false
      ? undefined
      : createApiServer({ ...ports.api, clock, ready: apiReady });
  const endpoint = createAwsEndpoint({
    ...ports.aws,
    ready,
    metrics,
    services: [...emulators.services, states].map(tracked),
  });
  const dnsServer = createDnsServer({ zones: emulators.route53, ...ports.dns, ready });
  const listeners = [
    [api, ports.api],
    [endpoint, ports.aws],
    [dnsServer, ports.dns],
  ] as const;
  const closeServers = () =>
    Promise.allSettled([api?.close(), endpoint.close(), dnsServer.close(), emulators.close()]);

  try {
    // Ports left to the system first: the environment below needs them.
    for (const [server, spec] of listeners) {
      if (server && spec.port === 0) await server.listen();
    }
    emulators.ses.setDnsServers([dnsServer.address]);
    if (api) emulators.ses.setApiBaseUrl(api.url);
    const stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;

    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DNS_RESOLVERS: dnsServer.address,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'SILENT',
      POWERTOOLS_SERVICE_NAME: 'ses-identity-verifier',
      POWERTOOLS_METRICS_NAMESPACE: 'SesIdentityVerifier',
      STATE_MACHINE_ARN: stateMachineArn,
      KEY_SECRET_PREFIX,
      EVENT_BUS_NAME,
      EVENT_SOURCE,
    });
    // Only after the environment is set: the steps read it at module scope, as in Lambda.
    const { useClock } = await import('#shared/runtime/clock.js');
    useClock(clock);
    for (const client of await functionClients()) clock.trackClient(client);
    // The steps are whatever functions the ASL invokes (`${NameFunctionArn}` → functions/steps/name).
    const { definition, functionNames } = await loadDefinition({
      eventBusName: EVENT_BUS_NAME,
      eventSource: EVENT_SOURCE,
      region,
    });
    const handlers: Record<string, LambdaHandler> = {
      ...(await importStepHandlers(functionNames)),
      ...Object.fromEntries(
        await Promise.all(
          API_FUNCTIONS.map(async (name) => [name, await importHandler(`api/${name}`)] as const),
        ),
      ),
    };

    const clients: SandboxClients = {
      sfn: clock.trackClient(new SFNClient({})),
      sesv2: clock.trackClient(new SESv2Client({})),
      route53: clock.trackClient(new Route53Client({})),
      eventBridge: clock.trackClient(new EventBridgeClient({})),
      secretsManager: clock.trackClient(new SecretsManagerClient({})),
    };
    const stateMachine = new LocalStateMachine({
      name: STATE_MACHINE_NAME,
      definition,
      handlers,
      eventBridge: clients.eventBridge,
      now: () => clock.now(),
      region,
      runTask: (work) => clock.runWork(work),
    });
    states.register(stateMachine);

    let invocations = 0;
    const invoke = (functionName: string, event: unknown) => {
      const handler = handlers[functionName];
      if (!handler) throw new Error(`No handler named ${functionName}`);
      invocations += 1;
      const context = lambdaContext(functionName, `sandbox-${invocations}`, region);
      return clock.runWork(() => handler(event, context));
    };

    // Ready: serve, then open the fixed ports.
    openApi({ invoke, emulators, metrics: () => metrics.snapshot() });
    for (const [server, spec] of listeners) {
      if (server && spec.port !== 0) await server.listen();
    }

    return {
      clock,
      emulators,
      dnsServer,
      stateMachine,
      awsUrl: endpoint.url,
      awsPort: endpoint.port,
      dnsPort: dnsServer.port,
      apiUrl: api?.url,
      region,
      metrics,
      clients,
      invoke,
      stop: async () => {
        await closeServers();
        for (const client of Object.values(clients)) client.destroy();
        clock.uninstall();
      },
    };
  } catch (error) {
    await closeServers();
    clock.uninstall();
    booted = false;
    throw error;
  }
}

/** The SDK clients the functions share (functions/shared/aws/clients), to count their requests. */
async function functionClients() {
  const [eventbridge, route53, secrets, sesv2, sfn] = await Promise.all([
    import('#sandbox/aws/eventbridge-client.js'),
    import('#shared/aws/clients/route53.js'),
    import('#shared/aws/clients/secrets-manager.js'),
    import('#shared/aws/clients/sesv2.js'),
    import('#shared/aws/clients/sfn.js'),
  ]);
  return [
    eventbridge.eventbridgeClient,
    route53.route53Client,
    secrets.secretsManagerClient,
    sesv2.sesv2Client,
    sfn.sfnClient,
  ];
}
