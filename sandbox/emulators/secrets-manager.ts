import { randomInt, randomUUID } from 'node:crypto';
import {
  type AwsRequest,
  type AwsResponse,
  type EmulatedService,
  targetOperation,
} from '#sandbox/aws/service.js';
import {
  AwsServiceError,
  awsJsonError,
  awsJsonResponse,
  epochSeconds,
  type Now,
  parseJsonBody,
  systemNow,
} from './wire.js';

interface Secret {
  arn: string;
  name: string;
  versionId: string;
  secretString?: string;
  secretBinary?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdAt: Date;
  deletionDate?: Date;
}

export interface SecretsManagerEmulatorOptions {
  now?: Now;
  region?: string;
  account?: string;
}

const NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const notFound = () =>
  new AwsServiceError(
    'ResourceNotFoundException',
    "Secrets Manager can't find the specified secret.",
  );

/**
 * AWS Secrets Manager (JSON 1.1): CreateSecret, GetSecretValue (by name or ARN) and DeleteSecret
 * (with a recovery window or forced), with real-shaped ARNs and Secrets Manager's errors.
 */
export class SecretsManagerEmulator implements EmulatedService {
  readonly signingName = 'secretsmanager';
  readonly serviceName = 'secretsmanager';
  readonly operations = ['CreateSecret', 'GetSecretValue', 'DeleteSecret'] as const;
  readonly operationOf = targetOperation;
  private readonly secrets = new Map<string, Secret>();
  private readonly now: Now;
  private readonly region: string;
  private readonly account: string;

  constructor(options: SecretsManagerEmulatorOptions = {}) {
    this.now = options.now ?? systemNow;
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
  }

  /** How many secrets exist (scheduled deletions included), for tests and progress output. */
  get size(): number {
    return this.secrets.size;
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    try {
      const target = request.headers['x-amz-target'];
      const body = parseJsonBody(request.body);
      switch (target) {
        case 'secretsmanager.CreateSecret':
          return awsJsonResponse(this.create(body));
        case 'secretsmanager.GetSecretValue':
          return awsJsonResponse(this.getValue(body));
        case 'secretsmanager.DeleteSecret':
          return awsJsonResponse(this.delete(body));
        default:
          throw new AwsServiceError(
            'UnknownOperationException',
            `The sandbox Secrets Manager does not implement ${target}`,
          );
      }
    } catch (error) {
      if (error instanceof AwsServiceError) return awsJsonError(error);
      throw error;
    }
  }

  private find(secretId: unknown): Secret {
    if (typeof secretId !== 'string' || secretId.length === 0) {
      throw new AwsServiceError('InvalidParameterException', 'SecretId is required.');
    }
    const secret =
      this.secrets.get(secretId) ??
      [...this.secrets.values()].find((candidate) => candidate.arn === secretId);
    if (!secret) throw notFound();
    return secret;
  }

  private create(body: Record<string, unknown>) {
    const name = body.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (body.SecretString !== undefined && body.SecretBinary !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        "You can't specify both a binary secret value and a string secret value in the same secret.",
      );
    }
    const existing = this.secrets.get(name);
    if (existing?.deletionDate) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      throw new AwsServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    let suffix = '';
    for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${suffix}`,
      name,
      versionId:
        typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : randomUUID(),
      tags: Array.isArray(body.Tags) ? (body.Tags as Secret['tags']) : [],
      createdAt: this.now(),
      ...(typeof body.SecretString === 'string' && { secretString: body.SecretString }),
      ...(typeof body.SecretBinary === 'string' && { secretBinary: body.SecretBinary }),
    };
    this.secrets.set(name, secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
  }

  private getValue(body: Record<string, unknown>) {
    const secret = this.find(body.SecretId);
    if (secret.deletionDate) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      ...(secret.secretString !== undefined && { SecretString: secret.secretString }),
      ...(secret.secretBinary !== undefined && { SecretBinary: secret.secretBinary }),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: epochSeconds(secret.createdAt),
    };
  }

  private delete(body: Record<string, unknown>) {
    const secret = this.find(body.SecretId);
    const force = body.ForceDeleteWithoutRecovery === true;
    const window = body.RecoveryWindowInDays;
    if (force && window !== undefined) {
      throw new AwsServiceError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (typeof window !== 'number' || window < 7 || window > 30)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const now = this.now();
    const deletionDate = force
      ? now
      : new Date(now.getTime() + (typeof window === 'number' ? window : 30) * 86_400_000);
    if (force) this.secrets.delete(secret.name);
    else secret.deletionDate = deletionDate;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionDate) };
  }
}
