/**
 * Boots the whole sandbox in this process: the virtual clock, the emulated AWS services behind
 * one endpoint, the DNS server, and template.yaml "deployed" on them (sandbox/deploy/): its
 * queues and tables, its functions with their environment (each handler imported from functions/
 * by the function's first invocation, as Lambda initialises a function on its first request),
 * the state machine run by aws-local-stepfunctions, the onboarding rule, the SQS event source
 * mappings, the schedules and (optionally) the HTTP API's routes. The handlers are imported only
 * after their environment points at the sandbox, exactly as Lambda would start them, so one
 * process holds one stack.
 */
import '#sandbox/asl-runner/promise-with-resolvers.js';
// Before anything that binds node:crypto or node:dns at load time.
import '#sandbox/engine/real-work.js';
import { devNull } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type ApiDependencies, createApiServer } from '#sandbox/api/server.js';
import { LOCAL_ACCOUNT, loadDefinition } from '#sandbox/asl-runner/definition.js';
import { importHandler } from '#sandbox/asl-runner/handlers.js';
import { type LambdaHandler, lambdaContext } from '#sandbox/asl-runner/local-tasks.js';
import { TaskTokens } from '#sandbox/asl-runner/task-tokens.js';
import { createEmulators, type Emulators } from '#sandbox/aws/create-emulators.js';
import { createAwsEndpoint } from '#sandbox/aws/endpoint.js';
import { CallMetrics } from '#sandbox/aws/metrics.js';
import type { EmulatedService } from '#sandbox/aws/service.js';
import { Deployment, SANDBOX_STACK_NAME } from '#sandbox/deploy/deployment.js';
import { provision } from '#sandbox/deploy/provision.js';
import { createDnsServer, type SandboxDnsServer } from '#sandbox/dns/server.js';
import { envelopeOf } from '#sandbox/emulators/eventbridge.js';
import type { Route53EmulatorOptions } from '#sandbox/emulators/route53.js';
import type { FaultOptions } from '#sandbox/emulators/wire.js';
import { EventSourceMapping } from '#sandbox/engine/event-source-mapping.js';
import { LocalStateMachine } from '#sandbox/engine/executions.js';
import { Schedule } from '#sandbox/engine/schedules.js';
import { StepFunctionsService } from '#sandbox/engine/sfn-service.js';
import { assertPortFree, type PortSpec } from '#sandbox/ports.js';
import { SES_DEED_REGIONS } from '#shared/ses/replicas.js';
import { VirtualClock } from './clock.js';

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
  /** template.yaml's parameters, where the sandbox should not take their defaults. */
  parameters?: Record<string, string | number>;
  /** Turns off the schedules (the sweeper), for tests that drive them by hand. */
  schedules?: boolean;
  /** A function invoked by an event source or a schedule failed; by default a line on stderr. */
  onFunctionError?: (functionName: string, error: unknown) => void;
}

export interface SandboxClients {
  sfn: SFNClient;
  sesv2: SESv2Client;
  route53: Route53Client;
  eventBridge: EventBridgeClient;
  secretsManager: SecretsManagerClient;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
}

export interface SandboxStack {
  clock: VirtualClock;
  emulators: Emulators;
  /** template.yaml as the sandbox deployed it: names, ARNs, URLs, environment. */
  deployment: Deployment;
  /** The DNS server SES and the steps query (fault injection: `failName`). */
  dnsServer: SandboxDnsServer;
  stateMachine: LocalStateMachine;
  /** The task tokens of waiting Tasks. */
  tokens: TaskTokens;
  /** The SQS event source mappings, by function name. */
  eventSourceMappings: Map<string, EventSourceMapping>;
  /** The schedules, by function name. */
  schedules: Map<string, Schedule>;
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

  // Every request to a server of the sandbox is real work until its response is written, but
  // for what it spends waiting on something else to happen (an SQS long poll).
  const tracked = (service: EmulatedService): EmulatedService => ({
    signingName: service.signingName,
    serviceName: service.serviceName,
    operations: service.operations,
    operationOf: (request) => service.operationOf(request),
    handle: async (request) => {
      let release = clock.busy();
      const idle = async <T>(wait: Promise<T>): Promise<T> => {
        release();
        try {
          return await wait;
        } finally {
          release = clock.busy();
        }
      };
      try {
        return await service.handle({ ...request, idle });
      } finally {
        release();
      }
    },
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
  // User Timing marks of the boot's phases, for `npm start`'s SANDBOX_TIMINGS breakdown.
  performance.mark('sandbox:emulators');
  const tokens = new TaskTokens();
  const states = new StepFunctionsService(tokens);
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
  const mappings = new Map<string, EventSourceMapping>();
  const schedules = new Map<string, Schedule>();
  const stopRunning = async () => {
    for (const schedule of schedules.values()) schedule.stop();
    await Promise.all([...mappings.values()].map((mapping) => mapping.stop()));
  };
  const closeServers = () =>
    Promise.allSettled([api?.close(), endpoint.close(), dnsServer.close(), emulators.close()]);

  try {
    // Ports left to the system first: the environment below needs them.
    for (const [server, spec] of listeners) {
      if (server && spec.port === 0) await server.listen();
    }
    emulators.sesRegions.setDnsServers([dnsServer.address]);
    if (api) emulators.ses.setApiBaseUrl(api.url);
    emulators.sqs.setBaseUrl(endpoint.url);
    performance.mark('sandbox:listening');

    // template.yaml, deployed: its queues and tables exist before any function starts.
    const deployment = Deployment.load(
      { region, account: LOCAL_ACCOUNT, stackName: SANDBOX_STACK_NAME, awsUrl: endpoint.url },
      { parameters: { ReplicaRegions: replicaRegionsBesides(region), ...options.parameters } },
    );
    await provision(deployment, emulators, () => new Promise((resolve) => setImmediate(resolve)));
    performance.mark('sandbox:deployed');

    // Lambda gives a function the template's variables, its role's keys and its Region, and no
    // ~/.aws: whatever AWS settings the shell that started the sandbox holds must not reach the
    // functions' SDK clients. AWS_PROFILE makes the SDK look past the sandbox's keys for a profile
    // that may not exist; AWS_ENDPOINT_URL_<SERVICE> outranks AWS_ENDPOINT_URL, and
    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops it; AWS_USE_FIPS_ENDPOINT refuses any custom
    // endpoint; a config file's endpoint_url, max_attempts and retry_mode apply to every client
    // (AWS SDKs and Tools Reference Guide, "Service-specific endpoints" and "Settings reference").
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('AWS_')) delete process.env[name];
    }
    Object.assign(process.env, {
      // Empty, as the files a Lambda function does not have.
      AWS_CONFIG_FILE: devNull,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      ...deployment.sharedEnvironment().environment,
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DNS_RESOLVERS: dnsServer.address,
      // A run's console_url opens it in the sandbox's own console, not AWS's.
      ...(api && { EXECUTION_CONSOLE_URL: `${api.url}/sandbox/console#run={executionName}` }),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'SILENT',
      // Tracing is off outside Lambda, but the X-Ray SDK's automatic mode would still install a
      // cls-hooked async hook with a destroy callback at import, which makes every promise of
      // the process slower to make and collect: about a tenth of the sandbox's CPU at scale.
      AWS_XRAY_MANUAL_MODE: 'true',
    });
    // Only after the environment is set: the handlers read it at module scope, as in Lambda.
    const { useClock } = await import('#shared/runtime/clock.js');
    useClock(clock);
    await trackFunctionClients(clock);
    // Each function's module is imported by its first invocation, as Lambda initialises a
    // function on its first request: a run never pays for the functions it does not call.
    const handlers: Record<string, LambdaHandler> = Object.fromEntries(
      deployment.functions.map((spec) => [spec.name, onFirstInvoke(spec.folder)] as const),
    );

    performance.mark('sandbox:handlers');
    // Each made (and tracked) when first used: a verification uses four of them.
    const clientsMade: { destroy(): void }[] = [];
    const clients = madeOnFirstUse<SandboxClients>(
      {
        sfn: () => new SFNClient({}),
        sesv2: () => new SESv2Client({}),
        route53: () => new Route53Client({}),
        eventBridge: () => new EventBridgeClient({}),
        secretsManager: () => new SecretsManagerClient({}),
        sqs: () => new SQSClient({}),
        dynamodb: () => new DynamoDBClient({}),
      },
      (client) => {
        clientsMade.push(client);
        return clock.trackClient(client);
      },
    );
    const [machineSpec] = deployment.stateMachines;
    if (!machineSpec || deployment.stateMachines.length > 1) {
      throw new Error('The sandbox runs exactly one state machine from template.yaml');
    }
    const { definition } = await loadDefinition(machineSpec);
    const stateMachine = new LocalStateMachine({
      name: machineSpec.name,
      definition,
      handlers,
      clients,
      tokens,
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
    const onFunctionError =
      options.onFunctionError ??
      ((functionName: string, error: unknown) =>
        process.stderr.write(`sandbox: ${functionName} failed: ${String(error)}\n`));

    // The template's rules on the emulated EventBridge, delivering to their queues.
    for (const rule of deployment.rules.filter((candidate) => candidate.enabled)) {
      emulators.events.addRule({
        name: rule.name,
        eventBusName: rule.eventBusName,
        pattern: rule.pattern,
        target: (event) => {
          for (const target of rule.targets) deliverToQueue(emulators, deployment, target, event);
        },
      });
    }
    for (const spec of deployment.functions) {
      for (const source of spec.queueEvents.filter((event) => event.enabled)) {
        const queue = deployment.queueByArn(source.queueArn);
        if (!queue) throw new Error(`${spec.logicalId}: no queue ${source.queueArn}`);
        const mapping = new EventSourceMapping({
          functionName: spec.name,
          queues: emulators.sqs,
          queueUrl: queue.url,
          queueArn: queue.arn,
          region,
          batchSize: source.batchSize,
          reportBatchItemFailures: source.reportBatchItemFailures,
          maximumConcurrency: Math.min(
            source.maximumConcurrency ?? Number.POSITIVE_INFINITY,
            spec.reservedConcurrency ?? Number.POSITIVE_INFINITY,
          ),
          invoke: (event) => invoke(spec.name, event),
          onError: (error) => onFunctionError(spec.name, error),
        });
        mappings.set(spec.name, mapping);
      }
      for (const schedule of spec.schedules.filter((candidate) => candidate.enabled)) {
        schedules.set(
          spec.name,
          new Schedule({
            name: `${spec.logicalId}${schedule.name}`,
            expression: schedule.expression,
            input: schedule.input,
            maximumRetryAttempts: schedule.maximumRetryAttempts,
            reservedConcurrency: spec.reservedConcurrency,
            invoke: (event) => invoke(spec.name, event),
            onError: (error) => onFunctionError(spec.name, error),
            setTimer: (callback, ms) => clock.setBackgroundTimeout(callback, ms),
          }),
        );
      }
    }

    // Ready: serve, then open the fixed ports, then let events flow.
    openApi({
      invoke,
      emulators,
      routes: deployment.routes,
      metrics: () => metrics.snapshot(),
      stateMachine,
    });
    for (const [server, spec] of listeners) {
      if (server && spec.port !== 0) await server.listen();
    }
    for (const mapping of mappings.values()) mapping.start();
    if (options.schedules !== false) for (const schedule of schedules.values()) schedule.start();

    return {
      clock,
      emulators,
      deployment,
      dnsServer,
      stateMachine,
      tokens,
      eventSourceMappings: mappings,
      schedules,
      awsUrl: endpoint.url,
      awsPort: endpoint.port,
      dnsPort: dnsServer.port,
      apiUrl: api?.url,
      region,
      metrics,
      clients,
      invoke,
      stop: async () => {
        await stopRunning();
        await closeServers();
        for (const client of clientsMade) client.destroy();
        clock.uninstall();
      },
    };
  } catch (error) {
    await stopRunning();
    await closeServers();
    clock.uninstall();
    booted = false;
    throw error;
  }
}

/**
 * Delivers an event to a rule's SQS target, the whole event as the message body, as
 * EventBridge does; an event the queue refuses goes to the target's dead-letter queue, with the
 * attributes EventBridge adds there. (EventBridge would retry first, but a queue in this process
 * refuses only what it would refuse every time.)
 */
function deliverToQueue(
  emulators: Emulators,
  deployment: Deployment,
  target: Deployment['rules'][number]['targets'][number],
  event: Parameters<typeof envelopeOf>[0],
): void {
  const queue = deployment.queueByArn(target.arn);
  if (!queue)
    throw new Error(`The sandbox delivers rule targets to its queues only (${target.arn})`);
  const body = JSON.stringify(envelopeOf(event));
  try {
    emulators.sqs.sendMessage(queue.url, { MessageBody: body });
  } catch (error) {
    const deadLetter = target.deadLetterArn && deployment.queueByArn(target.deadLetterArn);
    if (!deadLetter) throw error;
    emulators.sqs.sendMessage(deadLetter.url, {
      MessageBody: body,
      MessageAttributes: {
        ERROR_CODE: { DataType: 'String', StringValue: (error as Error).name },
        ERROR_MESSAGE: { DataType: 'String', StringValue: (error as Error).message },
        TARGET_ARN: { DataType: 'String', StringValue: target.arn },
      },
    });
  }
}

/** The SDK clients the functions share (functions/shared/aws/clients), to count their requests. */
/**
 * The sandbox emulates SES in every Region, so its stack may put DEED replicas in any Region SES
 * offers them in but its own (template.yaml's ReplicaRegions, unless the caller sets it).
 */
function replicaRegionsBesides(region: string): string {
  return SES_DEED_REGIONS.filter((other) => other !== region).join(',');
}

/**
 * Counts the functions' SDK clients' requests as work on `clock`: the clients made at module
 * scope now, and each SES client of another Region (a DEED replica's) when a function first
 * makes it (making all of them up front, one per Region SES offers DEED in, was a tenth of a
 * start).
 */
async function trackFunctionClients(clock: VirtualClock): Promise<void> {
  const [dynamodb, eventbridge, route53, secrets, sesv2, sfn] = await Promise.all([
    import('#shared/aws/clients/dynamodb.js'),
    import('#shared/aws/clients/eventbridge.js'),
    import('#shared/aws/clients/route53.js'),
    import('#shared/aws/clients/secrets-manager.js'),
    import('#shared/aws/clients/sesv2.js'),
    import('#shared/aws/clients/sfn.js'),
  ]);
  for (const client of [
    dynamodb.dynamodbClient,
    eventbridge.eventBridgeClient,
    route53.route53Client,
    secrets.secretsManagerClient,
    sesv2.sesv2Client,
    sfn.sfnClient,
  ]) {
    clock.trackClient(client);
  }
  sesv2.watchRegionalClients((client) => clock.trackClient(client));
}

/** The handler of functions/<folder>/handler.ts, its module imported when first invoked. */
function onFirstInvoke(folder: string): LambdaHandler {
  let loaded: Promise<LambdaHandler> | undefined;
  return async (event, context) => {
    loaded ??= importHandler(folder);
    return (await loaded)(event, context);
  };
}

/** An object whose every property is made by its factory (then passed to `made`) when first read. */
function madeOnFirstUse<T extends object>(
  factories: { [K in keyof T]: () => T[K] },
  made: <V extends T[keyof T]>(value: V) => V,
): T {
  const object = {} as T;
  for (const key of Object.keys(factories) as (keyof T)[]) {
    let value: T[keyof T] | undefined;
    Object.defineProperty(object, key, {
      enumerable: true,
      get: () => {
        value ??= made(factories[key]());
        return value;
      },
    });
  }
  return object;
}
