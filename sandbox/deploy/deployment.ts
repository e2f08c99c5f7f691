/**
 * template.yaml as the sandbox deploys it: every resource the sandbox runs (functions, queues,
 * tables, rules, schedules, routes, the state machine) with the names, ARNs and URLs it gives
 * them, and every property it reads resolved with CloudFormation's intrinsics, parameters at
 * their defaults. The template is the one source: a function's environment, a queue's redrive
 * policy, an event source mapping's batch size or a rule's pattern are read here, never repeated
 * in the sandbox's code.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnResource, CfnTemplate, Json } from '#scripts/validate-cfn-yaml.js';
import {
  condition,
  type IntrinsicScope,
  type Resolved,
  type ResourceAttributes,
  resolve,
  TemplateError,
} from './intrinsics.js';
import { loadTemplateCached } from './template-cache.js';

/** The repository's root, where template.yaml and the code it names live. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What `AWS::StackName` is in the sandbox: the stack name samconfig.toml deploys. */
export const SANDBOX_STACK_NAME = 'ses-identity-verifier';

/** Where the sandbox "deploys": its account, region, stack name and AWS endpoint. */
export interface SandboxPlace {
  region: string;
  account: string;
  /** What `AWS::StackName` resolves to: the stack name samconfig.toml deploys. */
  stackName: string;
  /** The one AWS endpoint: queue URLs point at it, as SQS's point at its regional endpoint. */
  awsUrl: string;
}

/** An SQS event source mapping (`Events: Type: SQS` on a function). */
export interface QueueEventSpec {
  name: string;
  queueArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** ScalingConfig's MaximumConcurrency, if set. */
  maximumConcurrency: number | undefined;
  enabled: boolean;
}

/** An EventBridge Scheduler schedule (`Events: Type: ScheduleV2` on a function). */
export interface ScheduleSpec {
  name: string;
  expression: string;
  /** The event the target receives (`Input`), `{}` by default. */
  input: string;
  maximumRetryAttempts: number;
  enabled: boolean;
}

export interface FunctionSpec {
  logicalId: string;
  /** The function's name in the sandbox: its code folder's name (`claim-identity`). */
  name: string;
  arn: string;
  /** Its code, under functions/: `steps/claim-identity`. */
  folder: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  reservedConcurrency: number | undefined;
  queueEvents: QueueEventSpec[];
  schedules: ScheduleSpec[];
}

export interface QueueSpec {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  /** CreateQueue's attributes, as SQS names them (RedrivePolicy as its JSON text). */
  attributes: Record<string, string>;
}

export interface TableSpec {
  logicalId: string;
  name: string;
  arn: string;
  /** The properties CreateTable takes: keys and indexes as declared. */
  properties: Record<string, Resolved>;
}

export interface RuleTargetSpec {
  id: string;
  arn: string;
  deadLetterArn: string | undefined;
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
}

export interface RuleSpec {
  logicalId: string;
  name: string;
  arn: string;
  eventBusName: string;
  pattern: Record<string, Resolved>;
  enabled: boolean;
  targets: RuleTargetSpec[];
}

export interface RouteSpec {
  method: string;
  /** `/identities/{identity}` */
  path: string;
  functionName: string;
}

export interface StateMachineSpec {
  logicalId: string;
  name: string;
  arn: string;
  /** The ASL file, absolute. */
  definitionPath: string;
  substitutions: Record<string, string>;
}

/** Variables Lambda's runtime reads for itself, not the function's code: never set in-process. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

const asObject = (value: Resolved | undefined): Record<string, Resolved> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};

/**
 * template.yaml deployed into the sandbox. Construct with `Deployment.load`; every list is in
 * the template's order.
 */
export class Deployment {
  readonly functions: FunctionSpec[];
  readonly queues: QueueSpec[];
  readonly tables: TableSpec[];
  readonly rules: RuleSpec[];
  readonly routes: RouteSpec[];
  readonly stateMachines: StateMachineSpec[];
  /** Parameter values (defaults, then overrides). */
  readonly parameters: Record<string, string | number>;
  private readonly scope: IntrinsicScope;

  private constructor(
    readonly template: CfnTemplate,
    readonly place: SandboxPlace,
    parameterOverrides: Record<string, string | number>,
  ) {
    this.parameters = {};
    for (const [name, declaration] of Object.entries(template.Parameters ?? {})) {
      const value = parameterOverrides[name] ?? declaration.Default;
      if (value === undefined || value === null || typeof value === 'object') {
        throw new TemplateError(`Parameter ${name} has no default; pass a value`);
      }
      this.parameters[name] = value as string | number;
    }
    const attributes = new Map<string, ResourceAttributes>();
    this.scope = {
      template,
      values: {
        ...this.parameters,
        'AWS::Region': place.region,
        'AWS::AccountId': place.account,
        'AWS::StackName': place.stackName,
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      },
      resource: (logicalId) => {
        let found = attributes.get(logicalId);
        if (!found) {
          found = this.attributesOf(logicalId, template.Resources[logicalId] as CfnResource);
          attributes.set(logicalId, found);
        }
        return found;
      },
    };
    const present = Object.entries(template.Resources).filter(
      ([, resource]) =>
        resource.Condition === undefined || condition(this.scope, resource.Condition),
    );
    const ofType = (type: string) => present.filter(([, resource]) => resource.Type === type);
    this.queues = ofType('AWS::SQS::Queue').map(([id]) => this.queueSpec(id));
    this.tables = ofType('AWS::DynamoDB::Table').map(([id, r]) => this.tableSpec(id, r));
    this.functions = ofType('AWS::Serverless::Function').map(([id, r]) => this.functionSpec(id, r));
    this.rules = ofType('AWS::Events::Rule').map(([id, r]) => this.ruleSpec(id, r));
    this.routes = ofType('AWS::ApiGatewayV2::Route').map(([id, r]) => this.routeSpec(id, r));
    this.stateMachines = ofType('AWS::Serverless::StateMachine').map(([id, r]) =>
      this.stateMachineSpec(id, r),
    );
  }

  /** Reads template.yaml (or `templatePath`) and deploys it at `place`. */
  static load(
    place: SandboxPlace,
    options: { templatePath?: string; parameters?: Record<string, string | number> } = {},
  ): Deployment {
    const template = loadTemplateCached(
      options.templatePath ?? join(PROJECT_ROOT, 'template.yaml'),
      join(PROJECT_ROOT, 'node_modules', '.cache', 'ses-identity-verifier'),
    );
    return new Deployment(template, place, options.parameters ?? {});
  }

  /** A value of the template resolved here (an Output's, say). */
  resolve(node: Json): Resolved {
    return resolve(this.scope, node);
  }

  functionNamed(name: string): FunctionSpec | undefined {
    return this.functions.find((spec) => spec.name === name);
  }

  functionByArn(arn: string): FunctionSpec | undefined {
    return this.functions.find((spec) => spec.arn === arn);
  }

  queueByArn(arn: string): QueueSpec | undefined {
    return this.queues.find((spec) => spec.arn === arn);
  }

  /**
   * The environment the handlers share in one process: Globals and every function's variables.
   * A variable the functions set to different values (AWS_MAX_ATTEMPTS: 1 in the steps, 3 in
   * the API) cannot be honoured for each, since the handlers share their SDK clients; it is left
   * unset and named in `conflicts`.
   */
  sharedEnvironment(): { environment: Record<string, string>; conflicts: string[] } {
    const environment: Record<string, string> = {};
    const conflicts = new Set<string>();
    for (const spec of this.functions) {
      for (const [name, value] of Object.entries(spec.environment)) {
        if (RUNTIME_VARIABLES.has(name) || conflicts.has(name)) continue;
        if (environment[name] !== undefined && environment[name] !== value) {
          conflicts.add(name);
          delete environment[name];
        } else {
          environment[name] = value;
        }
      }
    }
    return { environment, conflicts: [...conflicts].sort() };
  }

  /** Ref and attributes, by resource type, with the sandbox's names. */
  private attributesOf(logicalId: string, resource: CfnResource): ResourceAttributes {
    const { region, account } = this.place;
    const properties = (resource.Properties ?? {}) as Record<string, Json>;
    const named = (property: string, fallback: string) =>
      properties[property] === undefined ? fallback : String(this.resolve(properties[property]));
    switch (resource.Type) {
      case 'AWS::Serverless::Function': {
        const name = basename(String(this.resolve(properties.CodeUri ?? '')));
        const arn = `arn:aws:lambda:${region}:${account}:function:${name}`;
        return { ref: name, attributes: { Arn: arn } };
      }
      case 'AWS::SQS::Queue': {
        const fifo = String(this.resolve(properties.FifoQueue ?? false)) === 'true';
        const name = named('QueueName', `${logicalId}${fifo ? '.fifo' : ''}`);
        const url = `${this.place.awsUrl}/${account}/${name}`;
        const arn = `arn:aws:sqs:${region}:${account}:${name}`;
        return { ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
      }
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName', logicalId);
        return {
          ref: name,
          attributes: { Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}` },
        };
      }
      case 'AWS::Serverless::StateMachine': {
        const name = named('Name', logicalId.replace(/StateMachine$/, '') || logicalId);
        const arn = `arn:aws:states:${region}:${account}:stateMachine:${name}`;
        return { ref: arn, attributes: { Arn: arn, Name: name } };
      }
      case 'AWS::Events::Rule': {
        const name = named('Name', logicalId);
        const bus = named('EventBusName', 'default');
        const path = bus === 'default' ? name : `${bus}/${name}`;
        return {
          ref: name,
          attributes: { Arn: `arn:aws:events:${region}:${account}:rule/${path}` },
        };
      }
      case 'AWS::Logs::LogGroup': {
        const name = named('LogGroupName', logicalId);
        const arn = `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
        return { ref: name, attributes: { Arn: arn } };
      }
      case 'AWS::IAM::Role':
        return { ref: logicalId, attributes: { Arn: `arn:aws:iam::${account}:role/${logicalId}` } };
      case 'AWS::ApiGatewayV2::Api':
        return {
          ref: 'sandbox',
          attributes: { ApiEndpoint: 'http://127.0.0.1', ApiId: 'sandbox' },
        };
      default:
        // What the sandbox does not run (alarms, permissions, stages) answers to its logical ID.
        return { ref: logicalId, attributes: {} };
    }
  }

  private queueSpec(logicalId: string): QueueSpec {
    const resource = this.template.Resources[logicalId] as CfnResource;
    const properties = asObject(this.resolve((resource.Properties ?? {}) as Json));
    const { ref: url, attributes } = this.scope.resource(logicalId);
    const queueAttributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(properties)) {
      if (name === 'QueueName' || name === 'Tags') continue;
      queueAttributes[name] =
        typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    }
    return {
      logicalId,
      name: attributes.QueueName as string,
      url,
      arn: attributes.Arn as string,
      attributes: queueAttributes,
    };
  }

  private tableSpec(logicalId: string, resource: CfnResource): TableSpec {
    const { ref: name, attributes } = this.scope.resource(logicalId);
    return {
      logicalId,
      name,
      arn: attributes.Arn as string,
      properties: asObject(this.resolve((resource.Properties ?? {}) as Json)),
    };
  }

  private functionSpec(logicalId: string, resource: CfnResource): FunctionSpec {
    const globals = asObject(
      this.resolve((this.template.Globals?.Function ?? {}) as unknown as Json),
    );
    const properties = asObject(this.resolve((resource.Properties ?? {}) as Json));
    const codeUri = String(properties.CodeUri ?? '');
    const folder = sourceFolderOf(codeUri, String(properties.Handler));
    if (folder === undefined) {
      throw new TemplateError(
        `${logicalId}: the sandbox runs functions/<room>/<name>/handler.ts's handler, built by npm run build as dist/<name>/ (CodeUri ${codeUri}, Handler ${String(properties.Handler)})`,
      );
    }
    const variablesOf = (node: Record<string, Resolved>) =>
      asObject(asObject(node.Environment).Variables);
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries({
      ...variablesOf(globals),
      ...variablesOf(properties),
    })) {
      environment[name] = String(value);
    }
    const { ref: name, attributes } = this.scope.resource(logicalId);
    const queueEvents: QueueEventSpec[] = [];
    const schedules: ScheduleSpec[] = [];
    for (const [eventName, event] of Object.entries(asObject(properties.Events))) {
      const { Type: type, Properties: raw } = asObject(event);
      const eventProperties = asObject(raw);
      if (type === 'SQS') {
        queueEvents.push({
          name: eventName,
          queueArn: String(eventProperties.Queue),
          batchSize: Number(eventProperties.BatchSize ?? 10),
          maximumBatchingWindowSeconds: Number(eventProperties.MaximumBatchingWindowInSeconds ?? 0),
          reportBatchItemFailures: (
            (eventProperties.FunctionResponseTypes as Resolved[] | undefined) ?? []
          ).includes('ReportBatchItemFailures'),
          maximumConcurrency:
            asObject(eventProperties.ScalingConfig).MaximumConcurrency === undefined
              ? undefined
              : Number(asObject(eventProperties.ScalingConfig).MaximumConcurrency),
          enabled: eventProperties.Enabled !== false,
        });
      } else if (type === 'ScheduleV2') {
        schedules.push({
          name: eventName,
          expression: String(eventProperties.ScheduleExpression),
          input: eventProperties.Input === undefined ? '{}' : String(eventProperties.Input),
          maximumRetryAttempts: Number(
            asObject(eventProperties.RetryPolicy).MaximumRetryAttempts ?? 185,
          ),
          enabled: eventProperties.State !== 'DISABLED',
        });
      } else {
        throw new TemplateError(
          `${logicalId}: the sandbox does not run "${String(type)}" events (${eventName})`,
        );
      }
    }
    const reserved = properties.ReservedConcurrentExecutions;
    return {
      logicalId,
      name,
      arn: attributes.Arn as string,
      folder,
      environment,
      timeoutSeconds: Number(properties.Timeout ?? globals.Timeout ?? 3),
      reservedConcurrency: reserved === undefined ? undefined : Number(reserved),
      queueEvents,
      schedules,
    };
  }

  private ruleSpec(logicalId: string, resource: CfnResource): RuleSpec {
    const properties = asObject(this.resolve((resource.Properties ?? {}) as Json));
    const { ref: name, attributes } = this.scope.resource(logicalId);
    const targets = ((properties.Targets as Resolved[] | undefined) ?? []).map((raw) => {
      const target = asObject(raw);
      if (
        target.Input !== undefined ||
        target.InputPath !== undefined ||
        target.InputTransformer !== undefined
      ) {
        throw new TemplateError(
          `${logicalId}: the sandbox delivers whole events only (target ${String(target.Id)})`,
        );
      }
      const retry = asObject(target.RetryPolicy);
      const deadLetter = asObject(target.DeadLetterConfig).Arn;
      return {
        id: String(target.Id),
        arn: String(target.Arn),
        deadLetterArn: deadLetter === undefined ? undefined : String(deadLetter),
        maximumRetryAttempts: Number(retry.MaximumRetryAttempts ?? 185),
        maximumEventAgeSeconds: Number(retry.MaximumEventAgeInSeconds ?? 86_400),
      };
    });
    return {
      logicalId,
      name,
      arn: attributes.Arn as string,
      eventBusName: String(properties.EventBusName ?? 'default'),
      pattern: asObject(properties.EventPattern),
      enabled: (properties.State ?? 'ENABLED') === 'ENABLED',
      targets,
    };
  }

  private routeSpec(logicalId: string, resource: CfnResource): RouteSpec {
    const properties = asObject(this.resolve((resource.Properties ?? {}) as Json));
    const [method, path] = String(properties.RouteKey).split(' ');
    const integrationId = String(properties.Target).replace(/^integrations\//, '');
    const integration = this.template.Resources[integrationId];
    const uri = String(
      this.resolve(((integration?.Properties ?? {}) as Record<string, Json>).IntegrationUri ?? ''),
    );
    const fn = this.functionByArnEarly(uri);
    if (method === undefined || path === undefined || fn === undefined) {
      throw new TemplateError(
        `${logicalId}: route ${String(properties.RouteKey)} reaches no function`,
      );
    }
    return { method, path, functionName: fn };
  }

  /** A function's name by ARN, while the function list is being built. */
  private functionByArnEarly(arn: string): string | undefined {
    for (const [logicalId, resource] of Object.entries(this.template.Resources)) {
      if (resource.Type !== 'AWS::Serverless::Function') continue;
      const found = this.scope.resource(logicalId);
      if (found.attributes.Arn === arn) return found.ref;
    }
    return undefined;
  }

  private stateMachineSpec(logicalId: string, resource: CfnResource): StateMachineSpec {
    const properties = asObject(this.resolve((resource.Properties ?? {}) as Json));
    const { attributes } = this.scope.resource(logicalId);
    const substitutions: Record<string, string> = {};
    for (const [key, value] of Object.entries(asObject(properties.DefinitionSubstitutions))) {
      substitutions[key] = String(value);
    }
    return {
      logicalId,
      name: attributes.Name as string,
      arn: attributes.Arn as string,
      definitionPath: join(PROJECT_ROOT, String(properties.DefinitionUri)),
      substitutions,
    };
  }
}

/**
 * The source folder under functions/ (`steps/claim-identity`) of a function the template deploys
 * from `npm run build`'s output, `dist/<name>/` with `Handler: index.handler`: the one room
 * folder of that name holding a handler.ts. The sandbox runs the source, not the bundle.
 */
function sourceFolderOf(codeUri: string, handler: string): string | undefined {
  const built = /^dist\/([a-z0-9-]+)\/?$/.exec(codeUri);
  if (built === null || handler !== 'index.handler') return undefined;
  const name = built[1] as string;
  const found = ['api', 'steps', 'jobs'].filter((room) =>
    existsSync(join(PROJECT_ROOT, 'functions', room, name, 'handler.ts')),
  );
  return found.length === 1
    ? relative(
        join(PROJECT_ROOT, 'functions'),
        join(PROJECT_ROOT, 'functions', found[0] as string, name),
      )
    : undefined;
}
