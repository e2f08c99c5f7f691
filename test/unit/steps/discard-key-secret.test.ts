import {
  DeleteSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { keySecretArnOf } from '#shared/dkim/key-secret.js';
import { discardKeySecret } from '#steps/discard-key-secret/discard-key-secret.js';

const ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/example.com-abc';

describe('discardKeySecret', () => {
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => secrets.reset());

  it.each([
    [
      'a creation',
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: ARN,
        },
      },
    ],
    [
      'a DKIM change',
      {
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningPrivateKeySecretArn: ARN },
      },
    ],
  ])('deletes the secret of %s at once, without a recovery window', async (_kind, request) => {
    secrets.on(DeleteSecretCommand).resolves({});
    await expect(discardKeySecret(request)).resolves.toEqual({ deleted: ARN });
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, {
      SecretId: ARN,
      ForceDeleteWithoutRecovery: true,
    });
  });

  it.each([
    ['no DKIM attributes', { EmailIdentity: 'example.com' }],
    [
      'a generated key',
      { EmailIdentity: 'example.com', DkimSigningAttributes: { GenerateDomainSigningKey: {} } },
    ],
    ['an input that is not an object', 'hello'],
  ])('does nothing for a request with %s', async (_kind, request) => {
    expect(keySecretArnOf(request)).toBeNull();
    await expect(discardKeySecret(request)).resolves.toEqual({ deleted: null });
    expect(secrets.calls()).toHaveLength(0);
  });

  it('is content when the secret is already gone', async () => {
    secrets
      .on(DeleteSecretCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    await expect(
      discardKeySecret({ DkimSigningAttributes: { DomainSigningPrivateKeySecretArn: ARN } }),
    ).resolves.toEqual({ deleted: ARN });
  });
});
