// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${} placeholders are data here
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPrivateKey } from '#jobs/onboarding-starter/private-key-scan.js';
import { matchesPattern } from '#sandbox/emulators/event-pattern.js';
import { codeUriOf } from '#scripts/build.js';
import { functionFolders } from '#scripts/lib/function-folders.js';
import {
  actionsOf,
  allPolicyStatements,
  type CfnResource,
  type CfnTemplate,
  type Json,
  loadTemplate,
  type PolicyStatement,
  resourcesOf,
  resourcesOfType,
} from '#scripts/validate-cfn-yaml.js';
import {
  checkDefinitionSubstitutions,
  checkFunctionPolicies,
  checkHandlerPaths,
  checkNoWildcardActions,
  checkStateMachineRole,
  checkTaskTimeouts,
} from '#scripts/validate-template.js';
import {
  isDkimChangeRequest,
  parseDkimChangeRequest,
  parseIdentityRequest,
} from '#shared/request/index.js';

let template: CfnTemplate;
beforeAll(() => {
  template = loadTemplate('template.yaml');
});

function resource(logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

function props(logicalId: string): Record<string, Json> {
  const properties = resource(logicalId).Properties;
  if (!properties) throw new Error(`${logicalId} has no Properties`);
  return properties;
}

function functionStatements(logicalId: string): PolicyStatement[] {
  return allPolicyStatements({ Resources: { [logicalId]: resource(logicalId) } }).map(
    (entry) => entry.statement,
  );
}

/** The text of a resource ARN, whether written as a string or with !Sub. */
function arnText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return sub;
    if (Array.isArray(sub) && typeof sub[0] === 'string') return sub[0];
  }
  return JSON.stringify(value);
}

describe('template.yaml contract checks', () => {
  it.each([
    ['definition substitutions', () => checkDefinitionSubstitutions(template)],
    ['handler paths', () => checkHandlerPaths(template)],
    ['function policies against the code', () => checkFunctionPolicies(template)],
    ['state machine role against the definition', () => checkStateMachineRole(template)],
    ['no wildcard actions', () => checkNoWildcardActions(template)],
    ['Task timeouts against function timeouts', () => checkTaskTimeouts(template)],
  ])('passes the %s check', (_name, check) => {
    expect(check().problems).toEqual([]);
  });

  it('reports a Task whose TimeoutSeconds does not outlast its function', () => {
    const slow = structuredClone(template);
    const fn = slow.Resources.PublishDnsRecordsFunction;
    if (fn?.Properties === undefined)
      throw new Error('PublishDnsRecordsFunction has no Properties');
    fn.Properties.Timeout = 900;
    expect(checkTaskTimeouts(slow).problems).toEqual([
      "VerifyEmailIdentityStateMachine PublishDnsRecords: TimeoutSeconds 300 does not exceed PublishDnsRecordsFunction's Timeout of 900 s",
      "VerifyEmailIdentityStateMachine PublishRolledBackRecords: TimeoutSeconds 300 does not exceed PublishDnsRecordsFunction's Timeout of 900 s",
    ]);
  });
});

/** A copy of the template with one function's properties (or Metadata) changed. */
function withFunction(
  logicalId: string,
  change: (fn: CfnResource & { Properties: Record<string, Json> }) => void,
): CfnTemplate {
  const changed = structuredClone(template);
  const fn = changed.Resources[logicalId];
  if (fn?.Properties === undefined) throw new Error(`${logicalId} has no Properties`);
  change(fn as CfnResource & { Properties: Record<string, Json> });
  return changed;
}

describe('the handler paths check', () => {
  it('reports a CodeUri that points at source instead of the build', () => {
    const changed = withFunction('PublishDnsRecordsFunction', (fn) => {
      fn.Properties.CodeUri = 'functions/steps/publish-dns-records/';
    });
    expect(checkHandlerPaths(changed).problems).toEqual([
      'PublishDnsRecordsFunction: CodeUri functions/steps/publish-dns-records/ is not the build of a function: npm run build writes dist/<name>/ for each functions/<room>/<name>/handler.ts',
      'functions/steps/publish-dns-records/handler.ts has no AWS::Serverless::Function in the template',
    ]);
  });

  it('reports a CodeUri naming no function folder', () => {
    const changed = withFunction('PublishDnsRecordsFunction', (fn) => {
      fn.Properties.CodeUri = 'dist/publish-dns-record/';
    });
    expect(checkHandlerPaths(changed).problems[0]).toBe(
      'PublishDnsRecordsFunction: CodeUri dist/publish-dns-record/ is not the build of a function: npm run build writes dist/<name>/ for each functions/<room>/<name>/handler.ts',
    );
  });

  it('reports a Handler in a module the build does not write', () => {
    const changed = withFunction('PublishDnsRecordsFunction', (fn) => {
      fn.Properties.Handler = 'handler.handler';
    });
    expect(checkHandlerPaths(changed).problems[0]).toBe(
      'PublishDnsRecordsFunction: Handler handler.handler names module handler, but npm run build writes index.mjs from functions/steps/publish-dns-records/handler.ts',
    );
  });

  it('reports a Handler naming something handler.ts does not export', () => {
    const changed = withFunction('PublishDnsRecordsFunction', (fn) => {
      fn.Properties.Handler = 'index.main';
    });
    expect(checkHandlerPaths(changed).problems[0]).toBe(
      'PublishDnsRecordsFunction: Handler index.main names main, which functions/steps/publish-dns-records/handler.ts does not export',
    );
  });

  it('reports build Metadata, which would have sam build bundle the bundle again', () => {
    const changed = withFunction('PublishDnsRecordsFunction', (fn) => {
      fn.Metadata = { BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['handler.ts'] } };
    });
    expect(checkHandlerPaths(changed).problems[0]).toBe(
      'PublishDnsRecordsFunction: has build Metadata (BuildMethod "esbuild"); npm run build bundles every function, so remove it and point CodeUri at dist/<name>/',
    );
  });

  it('reports a queued step that the SES request worker does not run', () => {
    const worker = readFileSync('functions/jobs/ses-worker/handler.ts', 'utf8');
    expect(worker).toContain('#steps/check-verification/handler.js');
    expect(checkHandlerPaths(template).problems).toEqual([]);
    // A step deployed as a function of its own besides: it is not a Lambda any more.
    const changed = structuredClone(template);
    changed.Resources.CheckVerificationFunction = {
      ...(changed.Resources.PublishDnsRecordsFunction as CfnResource),
      Properties: { CodeUri: 'dist/check-verification/', Handler: 'index.handler' },
    };
    expect(checkHandlerPaths(changed).problems).toEqual([
      'CheckVerificationFunction: CodeUri dist/check-verification/ is not the build of a function: npm run build writes dist/<name>/ for each functions/<room>/<name>/handler.ts',
    ]);
  });

  it('reports two functions deploying one folder', () => {
    const changed = withFunction('PrepareDkimChangeFunction', (fn) => {
      fn.Properties.CodeUri = 'dist/publish-dns-records/';
    });
    expect(checkHandlerPaths(changed).problems).toEqual([
      'PublishDnsRecordsFunction and PrepareDkimChangeFunction both deploy functions/steps/publish-dns-records',
      'functions/steps/prepare-dkim-change/handler.ts has no AWS::Serverless::Function in the template',
    ]);
  });
});

describe('template.yaml least privilege', () => {
  it('gives every inline policy document the current policy language Version', () => {
    const documents = resourcesOfType(template, 'AWS::Serverless::Function').flatMap(
      ([, fn]) => (fn.Properties?.Policies ?? []) as Json[],
    );
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      expect(document).toMatchObject({ Version: '2012-10-17' });
    }
  });

  it('grants no "*" action and no service-wide wildcard anywhere', () => {
    const actions = allPolicyStatements(template).flatMap(({ statement }) => actionsOf(statement));
    expect(actions.length).toBeGreaterThan(20);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('scopes every SES action to identity ARNs, but the bulk list, which has no resource, and the tenant actions', () => {
    const TENANT_ACTIONS = [
      'ses:GetTenant',
      'ses:CreateTenant',
      'ses:CreateTenantResourceAssociation',
    ];
    const sesStatements = allPolicyStatements(template).filter(({ statement }) =>
      actionsOf(statement).some(
        (action) => action.startsWith('ses:') && action !== 'ses:ListEmailIdentities',
      ),
    );
    expect(sesStatements.length).toBeGreaterThan(0);
    for (const { statement } of sesStatements) {
      const resources = resourcesOf(statement).map(arnText);
      if (actionsOf(statement).every((action) => TENANT_ACTIONS.includes(action))) {
        // A tenant, and what an association takes into it: the identity, its configuration set.
        for (const arn of resources) {
          expect(arn).toMatch(
            /^arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(tenant|identity|configuration-set)\/\*$/,
          );
        }
        continue;
      }
      expect(actionsOf(statement).some((action) => TENANT_ACTIONS.includes(action))).toBe(false);
      // The stack's own Region; or any Region only where a condition names the Regions
      // (DEED replicas, in the ReplicaRegions), or for replicating a DEED parent, which IAM
      // authorises on the parent in its own Region while the call is made here.
      const replicatesParent = actionsOf(statement).every(
        (action) => action === 'ses:ReplicateEmailIdentityDkimSigningKeys',
      );
      const regional =
        (statement.Condition as Record<string, Record<string, Json>> | undefined)?.StringEquals?.[
          'aws:RequestedRegion'
        ] ??
        (replicatesParent && statement.Sid === 'ReplicateParentsElsewhere' ? 'any' : undefined);
      for (const arn of resources) {
        expect(arn).toMatch(
          regional === undefined
            ? /^arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:identity\/\*$/
            : /^arn:\$\{AWS::Partition\}:ses:\*:\$\{AWS::AccountId\}:identity\/\*$/,
        );
      }
    }
  });

  it('grants CreateTenant and GetTenant on tenants only', () => {
    const tenants = functionStatements('SesWorkerFunction').find(
      (statement) => statement.Sid === 'Tenants',
    );
    expect(actionsOf(tenants as PolicyStatement)).toEqual(['ses:GetTenant', 'ses:CreateTenant']);
    expect(resourcesOf(tenants as PolicyStatement).map(arnText)).toEqual([
      'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:tenant/*',
    ]);
  });

  it('limits Route 53 changes to DKIM UPSERTs, MAIL FROM MX and TXT UPSERTs, and DMARC CREATEs, and denies any DMARC overwrite', () => {
    const changes = functionStatements('PublishDnsRecordsFunction').filter((statement) =>
      actionsOf(statement).includes('route53:ChangeResourceRecordSets'),
    );
    for (const change of changes) {
      expect(actionsOf(change)).toEqual(['route53:ChangeResourceRecordSets']);
    }
    const conditions = Object.fromEntries(
      changes.map((change) => [`${change.Effect} ${change.Sid}`, change.Condition]),
    );
    expect(conditions).toEqual({
      'Allow UpsertDkimRecordsOnly': {
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*._domainkey.*'],
        },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME', 'TXT'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      },
      'Allow UpsertMailFromRecordsOnly': {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['MX', 'TXT'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      },
      'Allow CreateDmarcRecordsOnly': {
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_dmarc.*'],
        },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE'],
        },
      },
      'Deny NeverOverwriteDmarc': {
        'ForAnyValue:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_dmarc.*'],
        },
        'ForAnyValue:StringEquals': {
          'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
        },
      },
    });
  });

  it('puts "*" resources only on actions that have no resource-level permissions', () => {
    const allowedOnStar = new Set([
      'route53:ListHostedZonesByName',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      // A task token names no resource; the bulk list of identities has none either.
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'ses:ListEmailIdentities',
    ]);
    const onStar = allPolicyStatements(template)
      .filter(({ statement }) => resourcesOf(statement).includes('*'))
      .flatMap(({ statement }) => actionsOf(statement));
    expect(onStar.filter((action) => !allowedOnStar.has(action))).toEqual([]);
  });

  it('limits key secrets to the stack prefix the API writes under', () => {
    const secretStatements = allPolicyStatements(template).filter(({ statement }) =>
      actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
    );
    // The SES worker runs CreateIdentity and ChangeDkimSigning, which read a supplied key;
    // PrepareDkimChange keeps a generated one until SES holds it.
    expect([...new Set(secretStatements.map(({ logicalId }) => logicalId))].sort()).toEqual([
      'DiscardKeySecretFunction',
      'PrepareDkimChangeFunction',
      'RequestDkimChangeFunction',
      'SesWorkerFunction',
      'StartVerificationFunction',
    ]);
    for (const { statement } of secretStatements) {
      expect(resourcesOf(statement).map(arnText)).toEqual([
        'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/dkim-private-keys/*',
      ]);
    }
    for (const api of [
      'StartVerificationFunction',
      'RequestDkimChangeFunction',
      'PrepareDkimChangeFunction',
    ]) {
      const env = (props(api).Environment as { Variables: Record<string, Json> }).Variables;
      expect(env.KEY_SECRET_PREFIX, api).toEqual({
        'Fn::Sub': '${AWS::StackName}/dkim-private-keys/',
      });
    }
  });

  it('lets the state machine put events only with our source, on our bus', () => {
    const putEvents = allPolicyStatements({ Resources: { R: resource('StateMachineRole') } })
      .map(({ statement }) => statement)
      .find((statement) => actionsOf(statement).includes('events:PutEvents'));
    expect(putEvents?.Condition).toEqual({
      StringEquals: { 'events:source': { Ref: 'EventSource' } },
    });
    expect(resourcesOf(putEvents as PolicyStatement).map(arnText)).toEqual([
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}',
    ]);
  });
});

describe('template.yaml shape', () => {
  it('describes and constrains every parameter', () => {
    const parameters = Object.entries(template.Parameters ?? {});
    expect(parameters.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'EventBusName',
        'EventSource',
        'OnboardingEventSource',
        'OnboardingDetailType',
        'DefaultHostedZoneId',
        'LogRetentionInDays',
        'ApiAuthType',
      ]),
    );
    for (const [name, parameter] of parameters) {
      expect(parameter.Description, name).toEqual(expect.any(String));
      const constrained = ['AllowedValues', 'AllowedPattern', 'MinValue'].some(
        (key) => key in parameter,
      );
      expect(constrained, `${name} has no constraint`).toBe(true);
    }
    expect(template.Parameters?.ApiAuthType).toMatchObject({
      Default: 'AWS_IAM',
      AllowedValues: ['AWS_IAM', 'NONE'],
    });
  });

  it('runs every function on nodejs22.x, arm64, with active tracing', () => {
    expect(template.Globals?.Function).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Tracing: 'Active',
    });
    for (const [logicalId, fn] of resourcesOfType(template, 'AWS::Serverless::Function')) {
      for (const key of ['Runtime', 'Architectures', 'Tracing']) {
        expect(fn.Properties?.[key], `${logicalId} overrides ${key}`).toBeUndefined();
      }
    }
  });

  it('deploys every function from npm run build: dist/<name>/, index.handler, no build Metadata', () => {
    const functions = resourcesOfType(template, 'AWS::Serverless::Function');
    const folders = functionFolders();
    expect(functions.length).toBe(folders.length);
    const deployed = functions.map(([, fn]) => ({
      Metadata: fn.Metadata,
      CodeUri: fn.Properties?.CodeUri,
      Handler: fn.Properties?.Handler,
    }));
    expect(deployed).toEqual(
      expect.arrayContaining(
        folders.map((folder) => ({
          Metadata: undefined,
          CodeUri: codeUriOf(folder),
          Handler: 'index.handler',
        })),
      ),
    );
  });

  it('starts no function with --enable-source-maps: each bundle maps its stack traces when one is formatted', () => {
    const nodeOptionsOf = (holder: Json | undefined) =>
      (holder as { Environment?: { Variables?: Record<string, Json> } } | undefined)?.Environment
        ?.Variables?.NODE_OPTIONS;
    const given = [
      ['Globals', nodeOptionsOf(template.Globals?.Function)],
      ...resourcesOfType(template, 'AWS::Serverless::Function').map(([logicalId, fn]) => [
        logicalId,
        nodeOptionsOf(fn.Properties),
      ]),
    ].filter(([, options]) => String(options ?? '').includes('source-maps'));
    expect(given).toEqual([]);
  });

  it('declares a Standard state machine with logging ALL to its own group, and tracing', () => {
    const machine = resource('VerifyEmailIdentityStateMachine');
    expect(machine.Type).toBe('AWS::Serverless::StateMachine');
    expect(machine.Properties).toMatchObject({
      Type: 'STANDARD',
      DefinitionUri: 'statemachine/verify-email-identity.asl.json',
      Logging: {
        Level: 'ALL',
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] },
            },
          },
        ],
      },
      Tracing: { Enabled: true },
    });
    expect(Object.keys(machine.Properties?.DefinitionSubstitutions as object).sort()).toEqual([
      'AwaitVerificationFunctionArn',
      'ClaimIdentityFunctionArn',
      'DescribeFailureFunctionArn',
      'DiscardKeySecretFunctionArn',
      'EventBusName',
      'EventSource',
      'PrepareDkimChangeFunctionArn',
      'PublishDnsRecordsFunctionArn',
      'RegistryTableName',
      'RemovePublishedRecordsFunctionArn',
      'SesRequestQueueUrl',
      'StaleDkimRecordGraceDays',
    ]);
  });

  it('routes every API call with the auth type parameter, and throttles the stage', () => {
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(
      ([, route]) => route.Properties,
    );
    expect(routes.map((route) => route?.RouteKey).sort()).toEqual([
      'DELETE /identities/{identity}',
      'GET /identities',
      'GET /identities/{identity}',
      'POST /identities',
      'POST /identities/{identity}/check',
      'PUT /identities/{identity}/dkim',
    ]);
    for (const route of routes) expect(route?.AuthorizationType).toEqual({ Ref: 'ApiAuthType' });
    expect(resource('HttpApiStage').Properties?.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: { Ref: 'ApiThrottlingRateLimit' },
      ThrottlingBurstLimit: { Ref: 'ApiThrottlingBurstLimit' },
    });
  });

  it('has alarms on failed and timed-out executions', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      ([, alarm]) => alarm.Properties,
    );
    const metrics = alarms.map((alarm) => `${alarm?.Namespace}/${alarm?.MetricName}`);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'AWS/States/ExecutionsFailed',
        'AWS/States/ExecutionsTimedOut',
        'SesIdentityVerifier/VerificationTimedOut',
      ]),
    );
    for (const alarm of alarms.filter((a) => a?.Namespace === 'AWS/States')) {
      expect(alarm?.Dimensions).toEqual([
        { Name: 'StateMachineArn', Value: { Ref: 'VerifyEmailIdentityStateMachine' } },
      ]);
    }
  });

  it('outputs the API URL, the state machine ARN and the bus name', () => {
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining(['ApiUrl', 'StateMachineArn', 'EventBusName']),
    );
  });
});

describe('onboarding: one rule, a queue, the starter', () => {
  const onboarding = JSON.parse(
    readFileSync(
      new URL('../../events/onboarding-email-identity-requested.json', import.meta.url),
      'utf8',
    ),
  );
  const change = JSON.parse(
    readFileSync(new URL('../../events/onboarding-dkim-change.json', import.meta.url), 'utf8'),
  );

  it('matches both sample events with the default parameters, and nothing starts a run directly', () => {
    expect(rulesMatching(onboarding)).toEqual(['OnboardingRule']);
    expect(rulesMatching(change)).toEqual(['OnboardingRule']);
    expect(onboarding.source).toBe(template.Parameters?.OnboardingEventSource?.Default);
    expect(onboarding['detail-type']).toBe(template.Parameters?.OnboardingDetailType?.Default);
    expect(change['detail-type']).toBe(
      template.Parameters?.OnboardingDkimChangeDetailType?.Default,
    );
    const starts = resourcesOfType(template, 'AWS::Events::Rule').flatMap(([, rule]) =>
      ((rule.Properties?.Targets ?? []) as Record<string, Json>[]).filter(
        (t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: 'VerifyEmailIdentityStateMachine' }),
      ),
    );
    expect(starts).toEqual([]);
  });

  it('sends the whole event to the onboarding queue, retrying and dead-lettering what it cannot deliver', () => {
    const [target, ...others] = props('OnboardingRule').Targets as Record<string, Json>[];
    expect(others).toEqual([]);
    expect(target).toEqual({
      Id: 'OnboardingQueue',
      Arn: { 'Fn::GetAtt': ['OnboardingQueue', 'Arn'] },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['OnboardingDeadLetterQueue', 'Arn'] } },
    });
    expect(props('OnboardingQueue').RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { 'Fn::GetAtt': ['OnboardingDeadLetterQueue', 'Arn'] },
    });
  });

  it('queues a malformed request too (the starter answers it with a VALIDATION_ERROR event), never filtering it out', () => {
    const malformed = JSON.parse(
      readFileSync(new URL('../../events/onboarding-malformed.json', import.meta.url), 'utf8'),
    );
    expect(malformed.source).toBe(onboarding.source);
    expect(malformed['detail-type']).toBe(onboarding['detail-type']);
    expect(rulesMatching(malformed)).toEqual(['OnboardingRule']);
    expect(() => parseIdentityRequest(malformed.detail, { keyDelivery: 'secret' })).toThrow(
      expect.objectContaining({ name: 'ValidationError' }),
    );
  });

  it('queues an event that carries a private key too: the starter finds the key and starts no run', () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs1', format: 'der' })
      .toString('base64');
    for (const event of [
      {
        ...onboarding,
        detail: {
          ...onboarding.detail,
          DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
        },
      },
      {
        ...onboarding,
        'detail-type': template.Parameters?.OnboardingDkimChangeDetailType?.Default,
        detail: {
          EmailIdentity: 'mail.example.com',
          SigningAttributesOrigin: 'EXTERNAL',
          SigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
        },
      },
      { ...onboarding, detail: { EmailIdentity: 'mail.example.com', Notes: [{ pem: key }] } },
    ]) {
      expect(rulesMatching(event)).toEqual(['OnboardingRule']);
      expect(findPrivateKey(event.detail)).toBeDefined();
    }
  });

  it('lets only the onboarding rule send to the queues', () => {
    const [statement, ...others] = (
      props('OnboardingQueuePolicy').PolicyDocument as unknown as { Statement: PolicyStatement[] }
    ).Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: [
        { 'Fn::GetAtt': ['OnboardingQueue', 'Arn'] },
        { 'Fn::GetAtt': ['OnboardingDeadLetterQueue', 'Arn'] },
      ],
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['OnboardingRule', 'Arn'] } } },
    });
  });

  it('feeds the starter from the queue with partial batch failures', () => {
    expect(props('OnboardingStarterFunction').Events).toEqual({
      OnboardingEvents: {
        Type: 'SQS',
        Properties: {
          Queue: { 'Fn::GetAtt': ['OnboardingQueue', 'Arn'] },
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      },
    });
  });

  it('holds valid requests in the sample events, a change among them', () => {
    expect(parseIdentityRequest(onboarding.detail, { keyDelivery: 'secret' })).toMatchObject({
      EmailIdentity: 'mail.example.com',
    });
    expect(isDkimChangeRequest(change.detail)).toBe(true);
    expect(parseDkimChangeRequest(change.detail, { keyDelivery: 'secret' })).toMatchObject({
      Operation: 'ChangeDkimSigning',
      EmailIdentity: 'mail.example.com',
    });
  });
});

describe('SES at its rate', () => {
  it('queues SES work on a FIFO queue, one message group per lane of SES actions, redriven to a dead-letter queue', () => {
    expect(props('SesRequestQueue')).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['SesRequestDeadLetterQueue', 'Arn'] },
      },
    });
    const definition = JSON.parse(
      readFileSync('statemachine/verify-email-identity.asl.json', 'utf8'),
    ) as { States: Record<string, { Resource?: string; Parameters?: Record<string, Json> }> };
    const groupOf = Object.fromEntries(
      Object.entries(definition.States)
        .filter(([, state]) => state.Resource?.startsWith('arn:aws:states:::sqs:sendMessage'))
        .map(([name, state]) => [name, state.Parameters?.MessageGroupId]),
    );
    // Creations and DKIM changes in one lane, reads in the other: a check never waits behind
    // every creation, and no SES write action is paced by two workers at once.
    expect(groupOf).toEqual({
      CreateIdentity: 'ses-identity-changes',
      ChangeDkimSigning: 'ses-identity-changes',
      DeleteIdentity: 'ses-identity-changes',
      RollBackDkimSigning: 'ses-identity-changes',
      ConfigureSending: 'ses-identity-changes',
      ReadDkimSigning: 'ses-identity-reads',
      CheckVerification: 'ses-identity-reads',
      CheckNewRecords: 'ses-identity-reads',
    });
  });

  it("queues each DEED replica's SES calls in lanes of the replica's own Region", () => {
    type State = {
      Type?: string;
      Parameters?: Record<string, Json>;
      ItemProcessor?: { States: Record<string, State> };
    };
    const definition = JSON.parse(
      readFileSync('statemachine/verify-email-identity.asl.json', 'utf8'),
    ) as { States: Record<string, State> };
    const inner = definition.States.CreateReplicas?.ItemProcessor?.States ?? {};
    // SES's rates are per Region: a Region's budget is its own, and so is its lane.
    expect(inner.CreateReplica?.Parameters?.['MessageGroupId.$']).toBe(
      "States.Format('ses-identity-changes@{}', $.region)",
    );
    expect(inner.CheckReplica?.Parameters?.['MessageGroupId.$']).toBe(
      "States.Format('ses-identity-reads@{}', $.region)",
    );
  });

  it('lets the worker create and read replicas only in the ReplicaRegions, empty by default', () => {
    expect(template.Parameters?.ReplicaRegions).toMatchObject({ Type: 'String', Default: '' });
    const statements = (
      props('SesWorkerFunction').Policies as { Statement: Record<string, Json>[] }[]
    ).flatMap((policy) => policy.Statement);
    expect(statements.find((statement) => statement.Sid === 'ReplicaIdentities')).toEqual({
      Sid: 'ReplicaIdentities',
      Effect: 'Allow',
      Action: ['ses:CreateEmailIdentity', 'ses:GetEmailIdentity'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ses:*:${AWS::AccountId}:identity/*' }],
      Condition: {
        StringEquals: {
          'aws:RequestedRegion': { 'Fn::Split': [',', { Ref: 'ReplicaRegions' }] },
        },
      },
    });
  });

  it('lets the worker replicate a parent identity in another Region of the account, for DomainSigningAttributesOrigin', () => {
    const statements = (
      props('SesWorkerFunction').Policies as { Statement: Record<string, Json>[] }[]
    ).flatMap((policy) => policy.Statement);
    expect(statements.find((statement) => statement.Sid === 'ReplicateParentsElsewhere')).toEqual({
      Sid: 'ReplicateParentsElsewhere',
      Effect: 'Allow',
      Action: ['ses:ReplicateEmailIdentityDkimSigningKeys'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ses:*:${AWS::AccountId}:identity/*' }],
    });
  });

  it('lets the worker shorten a throttled message visibility on its own queue, and nothing more', () => {
    const worker = props('SesWorkerFunction');
    expect((worker.Environment as { Variables: Record<string, Json> }).Variables).toMatchObject({
      SES_REQUEST_QUEUE_URL: { Ref: 'SesRequestQueue' },
    });
    const statements = (worker.Policies as { Statement: Record<string, Json>[] }[]).flatMap(
      (policy) => policy.Statement,
    );
    const sqs = statements.filter((statement) =>
      (statement.Action as string[]).some((action) => action.startsWith('sqs:')),
    );
    expect(sqs).toEqual([
      {
        Sid: 'RequeueThrottledSteps',
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility'],
        Resource: [{ 'Fn::GetAtt': ['SesRequestQueue', 'Arn'] }],
      },
    ]);
  });

  it('runs the worker from the queue, paced by the SesRequestsPerSecond parameter', () => {
    const worker = props('SesWorkerFunction');
    expect(worker.Events).toEqual({
      SesRequests: {
        Type: 'SQS',
        Properties: {
          Queue: { 'Fn::GetAtt': ['SesRequestQueue', 'Arn'] },
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      },
    });
    expect((worker.Environment as { Variables: Record<string, Json> }).Variables).toMatchObject({
      SES_REQUESTS_PER_SECOND: { Ref: 'SesRequestsPerSecond' },
    });
  });

  it('sweeps every minute, one sweep at a time, and never retries a missed one', () => {
    const sweeper = props('SweeperFunction');
    expect(sweeper.ReservedConcurrentExecutions).toBe(1);
    expect(sweeper.Events).toEqual({
      EveryMinute: {
        Type: 'ScheduleV2',
        Properties: {
          ScheduleExpression: 'rate(1 minute)',
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      },
    });
  });

  it('keeps the registry on demand, with point-in-time recovery and protection as a parameter', () => {
    const table = resource('IdentityRegistryTable');
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: { Ref: 'RegistryDeletionProtection' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    const indexes = (table.Properties?.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
    expect(indexes.map((index) => index.IndexName)).toEqual([
      'ByStatus',
      'ByIdentity',
      'ByStaleSince',
      'ByWaiting',
      'ByProbeDue',
    ]);
  });

  it('lets the sweeper query only the indexes that give it the waiting runs and the due identities', () => {
    const queried = functionStatements('SweeperFunction')
      .filter((statement) => [statement.Action].flat().includes('dynamodb:Query'))
      .flatMap((statement) => [statement.Resource].flat() as Json[])
      .map(arnText);
    expect(queried).toEqual([
      '${IdentityRegistryTable.Arn}/index/ByWaiting',
      '${IdentityRegistryTable.Arn}/index/ByProbeDue',
      '${IdentityRegistryTable.Arn}/index/ByStatus',
    ]);
  });
});

describe('PUT /identities/{identity}/dkim', () => {
  it('routes to the RequestDkimChange function with payload 2.0 and the auth type parameter', () => {
    expect(props('RequestDkimChangeRoute')).toEqual({
      ApiId: { Ref: 'HttpApi' },
      RouteKey: 'PUT /identities/{identity}/dkim',
      AuthorizationType: { Ref: 'ApiAuthType' },
      Target: { 'Fn::Sub': 'integrations/${RequestDkimChangeIntegration}' },
    });
    expect(props('RequestDkimChangeIntegration')).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': ['RequestDkimChangeFunction', 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    expect(props('RequestDkimChangeApiPermission')).toMatchObject({
      FunctionName: { Ref: 'RequestDkimChangeFunction' },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: {
        'Fn::Sub':
          'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/PUT/identities/*/dkim',
      },
    });
  });

  it('lets the function read identities, claim them, start and find runs, and hand keys over, nothing more', () => {
    const granted = functionStatements('RequestDkimChangeFunction').map((statement) => [
      actionsOf(statement).sort(),
      resourcesOf(statement).map(arnText),
    ]);
    expect(granted).toEqual([
      [
        ['ses:GetEmailIdentity'],
        ['arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*'],
      ],
      [['states:StartExecution'], [JSON.stringify({ Ref: 'VerifyEmailIdentityStateMachine' })]],
      [
        ['states:DescribeExecution'],
        [
          'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${VerifyEmailIdentityStateMachine.Name}:*',
        ],
      ],
      [
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        [JSON.stringify({ 'Fn::GetAtt': ['IdentityRegistryTable', 'Arn'] })],
      ],
      [
        [
          'secretsmanager:CreateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:TagResource',
        ],
        [
          'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/dkim-private-keys/*',
        ],
      ],
    ]);
    expect(props('RequestDkimChangeFunction')).toMatchObject({
      CodeUri: 'dist/request-dkim-change/',
      Environment: {
        Variables: { STATE_MACHINE_ARN: { Ref: 'VerifyEmailIdentityStateMachine' } },
      },
    });
  });
});

/** The onboarding rules whose pattern (with the parameters' defaults) matches `event`. */
function rulesMatching(event: unknown): string[] {
  const withDefaults = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(withDefaults);
    if (value !== null && typeof value === 'object') {
      const ref = (value as { Ref?: string }).Ref;
      if (ref !== undefined) return template.Parameters?.[ref]?.Default;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDefaults(v)]));
    }
    return value;
  };
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .filter(([id]) =>
      matchesPattern(withDefaults(props(id).EventPattern) as Record<string, unknown>, event),
    )
    .map(([id]) => id);
}

describe('onboarding DKIM change rule', () => {
  const change = JSON.parse(
    readFileSync(new URL('../../events/onboarding-dkim-change.json', import.meta.url), 'utf8'),
  );

  it('matches the sample change event with the one onboarding rule, under its own detail-type', () => {
    expect(rulesMatching(change)).toEqual(['OnboardingRule']);
    expect(template.Parameters?.OnboardingDkimChangeDetailType).toMatchObject({
      Type: 'String',
      Default: 'Email Identity DKIM Change Requested',
    });
    expect(change.source).toBe(template.Parameters?.OnboardingEventSource?.Default);
    expect(change['detail-type']).toBe(
      template.Parameters?.OnboardingDkimChangeDetailType?.Default,
    );
    expect(template.Parameters?.OnboardingDkimChangeDetailType?.Default).not.toBe(
      template.Parameters?.OnboardingDetailType?.Default,
    );
    // The starter tells a change from a creation by the same parameter.
    const env = (
      props('OnboardingStarterFunction').Environment as { Variables: Record<string, Json> }
    ).Variables;
    expect(env.ONBOARDING_DKIM_CHANGE_DETAIL_TYPE).toEqual({
      Ref: 'OnboardingDkimChangeDetailType',
    });
  });

  it('holds a valid change request in its detail', () => {
    expect(isDkimChangeRequest(change.detail)).toBe(true);
    expect(parseDkimChangeRequest(change.detail, { keyDelivery: 'secret' })).toEqual({
      Operation: 'ChangeDkimSigning',
      EmailIdentity: 'mail.example.com',
      SigningAttributesOrigin: 'EXTERNAL',
      SigningAttributes: { GenerateDomainSigningKey: { KeyLength: 'RSA_2048_BIT' } },
      Dns: { Provider: 'route53' },
    });
  });

  it.each([
    ['to Easy DKIM', { SigningAttributesOrigin: 'AWS_SES', SigningAttributes: {}, Dns: {} }],
    [
      'a key length change',
      {
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        Dns: {},
      },
    ],
    [
      'to BYODKIM with a key in a secret',
      {
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: {
          DomainSigningSelector: 'sel2026',
          DomainSigningPrivateKeySecretArn:
            'arn:aws:secretsmanager:us-east-1:123456789012:secret:keys/mail.example.com-AbCdEf',
        },
        Dns: { Provider: 'manual' },
      },
    ],
  ])('accepts the detail of %s as a change request', (_label, detail) => {
    const input = { EmailIdentity: 'mail.example.com', ...detail };
    expect(isDkimChangeRequest(input)).toBe(true);
    expect(() => parseDkimChangeRequest(input, { keyDelivery: 'secret' })).not.toThrow();
  });

  it('queues an invalid change too, which the starter refuses with VALIDATION_ERROR', () => {
    const input = { ...change.detail, SigningAttributesOrigin: 'RSA', SigningAttributes: {} };

    expect(isDkimChangeRequest(input)).toBe(true);
    expect(() => parseDkimChangeRequest(input, { keyDelivery: 'secret' })).toThrow(
      expect.objectContaining({ name: 'ValidationError' }),
    );
  });
});
