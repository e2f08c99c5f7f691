/**
 * Runs the real statemachine/verify-email-identity.asl.json with the ASL runner the sandbox uses
 * (sandbox/asl-runner/: the same definition, DefinitionSubstitutions from template.yaml, Task
 * binding, task tokens and time limits), every Task bound to the real handler, on the sandbox's
 * virtual clock: time moves only while no handler works, so a 72-hour run takes a moment and a
 * real DNS query is never cut short by a jump in time.
 *
 * Around the state machine, what the template deploys beside it runs in-process too: the SES
 * request queue (the sandbox's SQS emulator, FIFO) feeding the real SES worker through an event
 * source mapping, which answers the run's task tokens through Step Functions' API (the SFN client
 * is routed to the runner's tokens); the identity registry in a real DynamoDB (dynalite); and,
 * when a test asks for it, the sweeper on its schedule. The other AWS clients are the test's
 * mocks.
 */
// Before anything that binds node:dns or node:crypto: DNS queries and key generation are work.
import '#sandbox/engine/real-work.js';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
  ValidationException,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  type SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { LOCAL_ACCOUNT, loadDefinition } from '#sandbox/asl-runner/definition.js';
import type { EngineEvent } from '#sandbox/asl-runner/execution-context.js';
import { importHandler } from '#sandbox/asl-runner/handlers.js';
import { type LambdaHandler, lambdaContext } from '#sandbox/asl-runner/local-tasks.js';
import { AslRunner } from '#sandbox/asl-runner/runner.js';
import { TaskTokenError, TaskTokens } from '#sandbox/asl-runner/task-tokens.js';
import { createTableInput } from '#sandbox/aws/dynamodb-tables.js';
import { startAwsEndpoint } from '#sandbox/aws/endpoint.js';
import { countRequestsAsWork, VirtualClock } from '#sandbox/clock.js';
import { Deployment, SANDBOX_STACK_NAME } from '#sandbox/deploy/deployment.js';
import { createQueues } from '#sandbox/deploy/provision.js';
import { DynamoDbEmulator } from '#sandbox/emulators/dynamodb.js';
import { SqsEmulator } from '#sandbox/emulators/sqs.js';
import { EventSourceMapping } from '#sandbox/engine/event-source-mapping.js';
import { Schedule } from '#sandbox/engine/schedules.js';

const REGION = 'us-east-1';
export const EVENT_SOURCE = 'ses-identity-verifier';

export interface ExecutionOutcome {
  status: 'SUCCEEDED' | 'FAILED';
  /** Fail state Error (the reason code) when FAILED. */
  error: string | null;
  output: unknown;
  /** Names of the states entered, in order. */
  statesEntered: string[];
  /** Every event of the run as the engine dispatched it. */
  events: EngineEvent[];
  /** Virtual time elapsed from start to end, in seconds. */
  elapsedSeconds: number;
  executionArn: string;
  name: string;
}

export interface RunOptions {
  /** Handlers to use instead of the real ones, by function name (`describe-failure`). */
  overrides?: Record<string, LambdaHandler>;
  /** Runs the sweeper on its schedule (template.yaml's rate) while the run goes. */
  sweeper?: boolean;
}

/** The template, deployed for the tests: the queue URL, table and function names they use. */
const deployment = Deployment.load({
  region: REGION,
  account: LOCAL_ACCOUNT,
  stackName: SANDBOX_STACK_NAME,
  awsUrl: 'https://sqs.us-east-1.amazonaws.com',
});
const sfn = mockClient(SFNClient);
// The worker's own SQS call (a throttled message back into view soon) reaches the test's queue.
const sqs = mockClient(SQSClient);

/** One test file's state machine, queue, worker, registry and clock. */
export class StateMachineHarness {
  readonly tokens = new TaskTokens();
  readonly deployment = deployment;
  clock!: VirtualClock;
  queues!: SqsEmulator;
  private worker: EventSourceMapping | undefined;
  /** Time stands still from `begin` until the test's run has started. */
  private setUp: (() => void) | undefined;
  private invocations = 0;
  private executions = 0;

  private constructor(
    private readonly registry: { url: string; close(): Promise<void> },
    readonly handlers: Record<string, LambdaHandler>,
    private readonly dynamodb: DynamoDBClient,
  ) {}

  /**
   * Starts the registry table and imports every function's handler with the environment the
   * template gives it. Call in `beforeAll`, after setting the probe's DNS variables.
   */
  static async start(): Promise<StateMachineHarness> {
    // The registry behind the sandbox's endpoint, as in the sandbox: its answers carry the
    // virtual clock's Date, which the SDK corrects its clock skew from.
    const tables = await DynamoDbEmulator.start();
    await tables.createTables(
      deployment.tables.map((table) => createTableInput(table.name, table.properties)),
      () => new Promise((resolve) => setTimeout(resolve, 5)),
    );
    const endpoint = await startAwsEndpoint({ port: 0, services: [tables] });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint.url;
    const registry = {
      url: endpoint.url,
      close: async () => {
        await endpoint.close();
        await tables.close();
      },
    };
    Object.assign(process.env, deployment.sharedEnvironment().environment, {
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    });
    const handlers = Object.fromEntries(
      await Promise.all(
        deployment.functions.map(async (spec) => [spec.name, await importHandler(spec.folder)]),
      ),
    ) as Record<string, LambdaHandler>;
    // The registry is real (dynalite, over HTTP): its requests are work for the clock.
    countRequestsAsWork((await import('#shared/aws/clients/dynamodb.js')).dynamodbClient);
    const dynamodb = countRequestsAsWork(new DynamoDBClient({ endpoint: registry.url }));
    return new StateMachineHarness(registry, handlers, dynamodb);
  }

  /**
   * Before each test: a virtual clock from `start`, an empty SES request queue with the worker
   * reading it, no task tokens left over, and an empty registry. Time stands still until the
   * test's run starts, so that what the test schedules before it happens when it says.
   */
  async begin(start: Date): Promise<void> {
    await this.clearRegistry();
    this.clock = new VirtualClock({ start: start.getTime() });
    this.clock.install();
    this.setUp = this.clock.hold();
    this.queues = new SqsEmulator({
      now: () => this.clock.now(),
      region: REGION,
      baseUrl: deployment.place.awsUrl,
    });
    createQueues(deployment, this.queues);
    sfn.reset();
    // As the SDK does: a promise, rejected with the service's error.
    const answer = async (work: () => void) => {
      try {
        work();
        return {};
      } catch (error) {
        throw asSfnError(error);
      }
    };
    sfn
      .on(SendTaskSuccessCommand)
      .callsFake((input) => answer(() => this.tokens.succeed(input.taskToken, input.output)));
    sfn
      .on(SendTaskFailureCommand)
      .callsFake((input) =>
        answer(() => this.tokens.fail(input.taskToken, input.error, input.cause)),
      );
    sfn
      .on(SendTaskHeartbeatCommand)
      .callsFake((input) => answer(() => this.tokens.heartbeat(input.taskToken)));
    sqs.reset();
    sqs.on(ChangeMessageVisibilityCommand).callsFake(async (input) => {
      this.queues.changeMessageVisibility(
        input.QueueUrl,
        input.ReceiptHandle,
        input.VisibilityTimeout,
      );
      return {};
    });
    const worker = deployment.functionNamed('ses-worker');
    const source = worker?.queueEvents[0];
    const queue = source && deployment.queueByArn(source.queueArn);
    if (!worker || !source || !queue) throw new Error('template.yaml has no SES worker on a queue');
    this.worker = new EventSourceMapping({
      functionName: worker.name,
      queues: this.queues,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: REGION,
      batchSize: source.batchSize,
      reportBatchItemFailures: source.reportBatchItemFailures,
      invoke: (event) => this.invoke(worker.name, event),
    });
    this.worker.start();
  }

  /** After each test. */
  async end(): Promise<void> {
    this.setUp?.();
    await this.worker?.stop();
    this.queues?.close();
    this.clock?.uninstall();
  }

  async close(): Promise<void> {
    this.dynamodb.destroy();
    await this.registry.close();
  }

  /** Calls a function's handler as Lambda would, as work on the virtual clock. */
  invoke(functionName: string, event: unknown): Promise<unknown> {
    const handler = this.handlers[functionName];
    if (!handler) throw new Error(`No function ${functionName}`);
    this.invocations += 1;
    const context = lambdaContext(functionName, `test-${this.invocations}`, REGION);
    return this.clock.runWork(() => handler(event, context));
  }

  /** Runs `work` at `at` (epoch ms) of virtual time, as work; resolves with its result. */
  at<T>(at: number, work: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      setTimeout(
        () => this.clock.runWork(work).then(resolve, reject),
        Math.max(0, at - Date.now()),
      );
    });
  }

  /** The registry's item of an identity, as DynamoDB holds it. */
  async registryItem(identity: string): Promise<Record<string, unknown> | undefined> {
    const { getIdentityItem } = await import('#shared/registry/registry.js');
    return this.clock.runWork(async () =>
      getIdentityItem(deployment.tables[0]?.name ?? '', identity),
    ) as Promise<Record<string, unknown> | undefined>;
  }

  /** Puts an item in the registry as it is before the test's run (a previous run's record). */
  async putRegistryItem(item: Record<string, unknown>): Promise<void> {
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamodbClient } = await import('#shared/aws/clients/dynamodb.js');
    await this.clock.runWork(async () =>
      dynamodbClient.send(
        new PutCommand({ TableName: deployment.tables[0]?.name ?? '', Item: item }),
      ),
    );
  }

  /** Runs one execution to its end. */
  async run(input: unknown, options: RunOptions = {}): Promise<ExecutionOutcome> {
    const [spec] = deployment.stateMachines;
    if (!spec) throw new Error('template.yaml has no state machine');
    const { definition } = await loadDefinition(spec);
    const runner = new AslRunner({
      definition,
      stateMachineArn: spec.arn,
      stateMachineName: spec.name,
      region: REGION,
      handlers: { ...this.handlers, ...options.overrides },
      clients: {
        eventBridge: new EventBridgeClient({}),
        dynamodb: this.dynamodb,
        sqs: { send: async (command: SendMessageCommand) => this.send(command) },
      },
      tokens: this.tokens,
      around: (_stateName, work) => this.clock.runWork(work),
    });
    this.executions += 1;
    const name = `test-${this.executions}`;
    const executionArn = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:execution:${spec.name}:${name}`;
    const events: EngineEvent[] = [];
    let sweeper: Schedule | undefined;
    if (options.sweeper) {
      const fn = deployment.functionNamed('sweeper');
      const schedule = fn?.schedules[0];
      if (!fn || !schedule) throw new Error('template.yaml has no sweeper schedule');
      sweeper = new Schedule({
        name: 'sweeper',
        expression: schedule.expression,
        input: schedule.input,
        maximumRetryAttempts: schedule.maximumRetryAttempts,
        reservedConcurrency: fn.reservedConcurrency,
        invoke: (event) => this.invoke(fn.name, event),
      });
      sweeper.start();
    }
    const startedAt = Date.now();
    const run = runner.start(input, {
      name,
      executionArn,
      listen: (context) => context.onEvent((event) => events.push(event)),
    });
    // The test has set the scene (timers, mocks): from now on time moves.
    this.setUp?.();
    try {
      const outcome = await run.result.then(
        (output) => ({ status: 'SUCCEEDED' as const, error: null, output }),
        (error: Error & { cause?: { name?: string } }) => ({
          status: 'FAILED' as const,
          error: error.cause?.name ?? error.name,
          output: null,
        }),
      );
      return {
        ...outcome,
        statesEntered: events
          .filter((event) => event.type === 'StateEntered')
          .map((event) => event.state?.name as string),
        events,
        elapsedSeconds: Math.round((Date.now() - startedAt) / 1000),
        executionArn,
        name,
      };
    } finally {
      sweeper?.stop();
    }
  }

  /** The state machine's SendMessage, into the in-process queue. */
  private send(command: SendMessageCommand) {
    return this.queues.sendMessage(command.input.QueueUrl ?? '', command.input);
  }

  private async clearRegistry(): Promise<void> {
    const table = deployment.tables[0]?.name ?? '';
    const { Items = [] } = await this.dynamodb.send(new ScanCommand({ TableName: table }));
    for (const item of Items) {
      await this.dynamodb.send(
        new DeleteItemCommand({ TableName: table, Key: { identity: item.identity as never } }),
      );
    }
  }
}

/** A refused answer to a token, as the SFN client raises it. */
function asSfnError(error: unknown): Error {
  if (!(error instanceof TaskTokenError)) return error as Error;
  const options = { message: error.message, $metadata: {} };
  switch (error.code) {
    case 'TaskTimedOut':
      return new TaskTimedOut(options);
    case 'TaskDoesNotExist':
      return new TaskDoesNotExist(options);
    case 'InvalidToken':
      return new InvalidToken(options);
    case 'InvalidOutput':
      return new InvalidOutput(options);
    default:
      return new ValidationException(options);
  }
}
