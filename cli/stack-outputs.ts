/**
 * `--stack NAME`: the API's URL from the CloudFormation stack's outputs, read with the real SDK
 * client and the same credentials the requests are then signed with.
 */
import {
  CloudFormationClient,
  type CloudFormationClientConfig,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { UnreachableError, UsageError } from './errors.js';

/** The template's output that holds the HTTP API's base URL. */
export const API_URL_OUTPUT = 'ApiUrl';

/** Made here so that tests can mock every CloudFormationClient (aws-sdk-client-mock). */
export function cloudFormationClient(config: CloudFormationClientConfig): CloudFormationClient {
  return new CloudFormationClient(config);
}

/** The stack's ApiUrl output and the Region it was read in. */
export async function apiUrlOfStack(
  stackName: string,
  client: CloudFormationClient,
): Promise<{ apiUrl: string; region: string }> {
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    throw new UsageError(
      `--stack ${stackName}: no AWS Region to look for it in: pass --region, or set AWS_REGION or a profile's region`,
    );
  }
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    throw explainCloudFormationError(stackName, region, error);
  }
  const apiUrl = outputs.find((output) => output.OutputKey === API_URL_OUTPUT)?.OutputValue;
  if (!apiUrl) {
    const keys = outputs.map((output) => output.OutputKey).filter(Boolean);
    throw new UsageError(
      `--stack ${stackName} (${region}) has no ${API_URL_OUTPUT} output` +
        (keys.length > 0 ? ` (its outputs: ${keys.join(', ')})` : ' (it has no outputs)') +
        ': is it a stack of this template, fully created?',
    );
  }
  return { apiUrl, region };
}

function explainCloudFormationError(stackName: string, region: string, error: unknown): Error {
  const { name, message } = error as { name?: string; message?: string };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // CloudFormation answers an unknown stack with a 400 ValidationError, "Stack with id X does not
  // exist", not a NotFound code (boto/boto3#2807; the SDK v3 error is the same).
  if (name === 'ValidationError' && /does not exist/.test(message ?? '')) {
    return new UsageError(`--stack ${stackName}: CloudFormation has no such stack in ${region}`);
  }
  if (name === 'CredentialsProviderError') {
    return new UsageError(
      `--stack ${stackName}: no AWS credentials found by the default chain (environment, SSO, shared config and credentials files, container or instance role): ${message}`,
    );
  }
  if (status === undefined) {
    return new UnreachableError(
      `--stack ${stackName}: cannot reach CloudFormation in ${region}: ${message ?? String(error)}`,
    );
  }
  return new UsageError(
    `--stack ${stackName}: CloudFormation refused DescribeStacks in ${region} (${name}, HTTP ${status}): ${message}`,
  );
}
