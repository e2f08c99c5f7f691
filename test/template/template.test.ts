// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${} placeholders are data here
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPrivateKey } from '#jobs/onboarding-starter/private-key-scan.js';
import { matchesPattern } from '#sandbox/emulators/event-pattern.js';
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

  it('scopes every SES action to identity ARNs, but the bulk list, which has no resource', () => {
    const sesStatements = allPolicyStatements(template).filter(({ statement }) =>
      actionsOf(statement).some(
        (action) => action.startsWith('ses:') && action !== 'ses:ListEmailIdentities',
      ),
    );
    expect(sesStatements.length).toBeGreaterThan(0);
    for (const { statement } of sesStatements) {
      for (const arn of resourcesOf(statement).map(arnText)) {
        expect(arn).toMatch(
          /^arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:identity\/\*$/,
        );
      }
    }
  });

  it('limits Route 53 changes to UPSERTs of CNAME and TXT records under _domainkey names', () => {
    const [change, ...others] = functionStatements('PublishDnsRecordsFunction').filter(
      (statement) => actionsOf(statement).includes('route53:ChangeResourceRecordSets'),
    );
    expect(others).toEqual([]);
    expect(actionsOf(change as PolicyStatement)).toEqual(['route53:ChangeResourceRecordSets']);
    expect(change?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*._domainkey.*'],
      },
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME', 'TXT'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
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
    // The SES worker runs CreateIdentity and ChangeDkimSigning, which read a supplied key.
    expect([...new Set(secretStatements.map(({ logicalId }) => logicalId))].sort()).toEqual([
      'DiscardKeySecretFunction',
      'RequestDkimChangeFunction',
      'SesWorkerFunction',
      'StartVerificationFunction',
    ]);
    for (const { statement } of secretStatements) {
      expect(resourcesOf(statement).map(arnText)).toEqual([
        'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/dkim-private-keys/*',
      ]);
    }
    for (const api of ['StartVerificationFunction', 'RequestDkimChangeFunction']) {
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

  it('builds every function with the same esbuild Metadata', () => {
    const functions = resourcesOfType(template, 'AWS::Serverless::Function');
    const deployed = functions.map(([, fn]) => String(fn.Properties?.CodeUri).replace(/\/$/, ''));
    // Every folder with a handler is a function, but the steps the SES worker runs in-process.
    expect(functionFolders().filter((folder) => !deployed.includes(folder))).toEqual([
      'functions/steps/change-dkim-signing',
      'functions/steps/check-verification',
      'functions/steps/create-identity',
      'functions/steps/read-dkim-signing',
    ]);
    const [first, ...rest] = functions.map(([, fn]) => fn.Metadata);
    expect(first).toEqual({
      BuildMethod: 'esbuild',
      BuildProperties: {
        Format: 'esm',
        OutExtension: ['.js=.mjs'],
        Target: 'es2022',
        Platform: 'node',
        Minify: true,
        Sourcemap: true,
        Banner: [
          "js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        ],
        EntryPoints: ['handler.ts'],
      },
    });
    for (const metadata of rest) expect(metadata).toEqual(first);
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
      'PublishDnsRecordsFunctionArn',
      'RegistryTableName',
      'RemoveStaleRecordsFunctionArn',
      'SesRequestQueueUrl',
    ]);
  });

  it('routes every path with the auth type parameter, and throttles the stage', () => {
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(
      ([, route]) => route.Properties,
    );
    expect(routes.map((route) => route?.RouteKey).sort()).toEqual([
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

describe('onboarding rule', () => {
  const onboarding = JSON.parse(
    readFileSync(
      new URL('../../events/onboarding-email-identity-requested.json', import.meta.url),
      'utf8',
    ),
  );

  it('matches the sample onboarding event with the default parameters', () => {
    expect(rulesMatching(onboarding)).toEqual(['OnboardingRule']);
    expect(onboarding.source).toBe(template.Parameters?.OnboardingEventSource?.Default);
    expect(onboarding['detail-type']).toBe(template.Parameters?.OnboardingDetailType?.Default);
  });

  it('queues the whole event for the starter, with retries and a dead-letter queue', () => {
    const [target, ...others] = props('OnboardingRule').Targets as Record<string, Json>[];
    expect(others).toEqual([]);
    expect(target).toEqual({
      Id: 'OnboardingQueue',
      Arn: { 'Fn::GetAtt': ['OnboardingQueue', 'Arn'] },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['OnboardingDeadLetterQueue', 'Arn'] } },
    });
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
    expect(props('OnboardingQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['OnboardingDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(parseIdentityRequest(onboarding.detail, { keyDelivery: 'secret' })).toMatchObject({
      EmailIdentity: 'mail.example.com',
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

  it('lets only the onboarding rule send to the onboarding queues', () => {
    const [statement, ...others] = (
      props('OnboardingQueuePolicy').PolicyDocument as unknown as {
        Statement: PolicyStatement[];
      }
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
      CodeUri: 'functions/api/request-dkim-change/',
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
