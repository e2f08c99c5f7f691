import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_URL_OUTPUT } from '#cli/stack-outputs.js';
import { type FakeApi, ok, type ReceivedRequest, runCapture, startFakeApi } from './cli-harness.js';

// `--stack NAME`: the API's URL from the stack's outputs, read with the real CloudFormation
// client (its requests answered by aws-sdk-client-mock), then every request signed.

const cloudFormation = mockClient(CloudFormationClient);
let api: FakeApi;

beforeEach(async () => {
  cloudFormation.reset();
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  api = await startFakeApi(() => ok({ items: [], next_token: null }));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await api.close();
});

const stackWith = (outputs: { OutputKey: string; OutputValue: string }[]) => ({
  Stacks: [
    {
      StackName: 'ses-identity-verifier',
      StackStatus: 'CREATE_COMPLETE' as const,
      CreationTime: new Date('2026-11-01T00:00:00Z'),
      Outputs: outputs,
    },
  ],
});

const serviceError = (name: string, message: string, httpStatusCode: number) =>
  new CloudFormationServiceException({
    name,
    message,
    $fault: 'client',
    $metadata: { httpStatusCode },
  });

describe('--stack', () => {
  it("reads the ApiUrl output of the named stack and signs requests to it for the stack's Region", async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(
      stackWith([
        {
          OutputKey: 'StateMachineArn',
          OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:X',
        },
        { OutputKey: API_URL_OUTPUT, OutputValue: api.url },
      ]),
    );

    const run = await runCapture(
      ['list', '--stack', 'ses-identity-verifier', '--region', 'eu-west-1'],
      {
        env: {},
      },
    );

    expect(run.code).toBe(0);
    expect(cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'ses-identity-verifier',
    });
    expect(cloudFormation).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
    const [request] = api.requests as [ReceivedRequest];
    expect(request.url).toBe('/identities?limit=100');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
    );
  });

  it('asks CloudFormation in the Region of AWS_REGION when no --region is given', async () => {
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');
    cloudFormation
      .on(DescribeStacksCommand)
      .resolves(stackWith([{ OutputKey: API_URL_OUTPUT, OutputValue: api.url }]));

    const run = await runCapture(['list', '--stack', 'prod-ses'], { env: {} });

    expect(run.code).toBe(0);
    expect(String(api.requests[0]?.headers.authorization)).toContain(
      '/ap-southeast-2/execute-api/',
    );
  });

  it('names the stack and the Region when CloudFormation has no such stack, and exits 2', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(serviceError('ValidationError', 'Stack with id nope does not exist', 400));

    const run = await runCapture(
      ['status', 'mail.example.com', '--stack', 'nope', '--region', 'eu-west-1'],
      {
        env: {},
      },
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--stack nope: CloudFormation has no such stack in eu-west-1');
    expect(api.requests).toHaveLength(0);
  });

  it('lists the outputs a stack has when ApiUrl is not one of them, and exits 2', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .resolves(stackWith([{ OutputKey: 'BucketName', OutputValue: 'b' }]));

    const run = await runCapture(['list', '--stack', 'other', '--region', 'eu-west-1'], {
      env: {},
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--stack other (eu-west-1) has no ApiUrl output (its outputs: BucketName)',
    );
  });

  it('says CloudFormation refused, with its error, when access is denied', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        serviceError(
          'AccessDenied',
          'not authorized to perform: cloudformation:DescribeStacks',
          403,
        ),
      );

    const run = await runCapture(['list', '--stack', 's', '--region', 'eu-west-1'], { env: {} });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'CloudFormation refused DescribeStacks in eu-west-1 (AccessDenied, HTTP 403): not authorized',
    );
  });

  it('exits 3 when CloudFormation cannot be reached', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com'), {
        name: 'Error',
      }),
    );

    const run = await runCapture(['list', '--stack', 's', '--region', 'eu-west-1'], { env: {} });

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('cannot reach CloudFormation in eu-west-1: getaddrinfo ENOTFOUND');
  });

  it('asks for a Region when neither --region, AWS_REGION nor a profile names one', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');

    const run = await runCapture(['list', '--stack', 's'], { env: {} });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--stack s: no AWS Region to look for it in: pass --region');
    expect(cloudFormation).not.toHaveReceivedCommand(DescribeStacksCommand);
  });
});
