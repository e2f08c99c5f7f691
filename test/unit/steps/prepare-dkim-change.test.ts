import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SigningSnapshot } from '#shared/dkim/signing.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import type { PublishedRecords } from '#shared/workflow/types.js';
import { prepareDkimChange } from '#steps/prepare-dkim-change/prepare-dkim-change.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const PREFIX = 'stack/dkim-private-keys/';

const byodkimBefore: SigningSnapshot = {
  identity_type: 'DOMAIN',
  signing: { origin: 'EXTERNAL', selector: 's1', tokens: [], signing_key_length: 'RSA_2048_BIT' },
  dkim_status: 'SUCCESS',
  next_signing_key_length: null,
  last_key_generation_timestamp: null,
  configuration_set_name: null,
  verified_for_sending: true,
};

const rotation: DkimChangeRequest = {
  Operation: 'ChangeDkimSigning',
  EmailIdentity: 'example.com',
  SigningAttributesOrigin: 'EXTERNAL',
  SigningAttributes: { GenerateDomainSigningKey: {} },
};

/** Where a previous run published the old selector: Route 53, zone Z0EXAMPLE. */
const publishedBefore: PublishedRecords = {
  provider: 'route53',
  provider_reason: 'zone matched',
  hosted_zone_id: 'Z0EXAMPLE',
  hosted_zone_name: 'example.com',
  written: true,
  change_id: 'C0',
  records: [{ type: 'TXT', name: 's1._domainkey.example.com', value: 'v=DKIM1; p=OLD', ttl: 1800 }],
  zone_file: [],
};

describe('prepareDkimChange', () => {
  const secrets = mockClient(SecretsManagerClient);
  const stored = new Map<string, string>();

  beforeEach(() => {
    secrets.reset();
    stored.clear();
    secrets.on(CreateSecretCommand).callsFake((input) => {
      if (stored.has(input.Name)) {
        throw new ResourceExistsException({ message: 'exists', $metadata: {} });
      }
      stored.set(input.Name, input.SecretString);
      return { ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.Name}-AbCdEf` };
    });
    secrets.on(GetSecretValueCommand).callsFake((input) => {
      const name = [...stored.keys()].find((n) => input.SecretId.includes(n));
      return { SecretString: name === undefined ? undefined : stored.get(name) };
    });
  });

  const prepare = (published: PublishedRecords | null = publishedBefore) =>
    prepareDkimChange(rotation, byodkimBefore, 'run-1', NOW, {
      keySecretPrefix: PREFIX,
      registryItem: async () =>
        published === null ? undefined : { published_json: JSON.stringify(published) },
    });

  it('publishes a rotation first: a new selector, its public key, and no private key anywhere in its output', async () => {
    const prepared = await prepare();

    expect(prepared.publish_first).toBe(true);
    expect(prepared.identity.dkim).toMatchObject({
      origin: 'EXTERNAL',
      selector: 'ses-20261123',
      status: 'PENDING',
    });
    expect(prepared.identity.dkim?.public_key).toMatch(/^MI/);
    expect(prepared.identity.change).toMatchObject({
      kind: 'BYODKIM_KEY_ROTATION',
      switched_at: null,
      stale_records: [{ type: 'TXT', name: 's1._domainkey.example.com' }],
    });
    const [privateKey] = [...stored.values()];
    expect(privateKey).toMatch(/^MII/);
    expect(JSON.stringify(prepared)).not.toContain(privateKey?.slice(0, 40));
    expect(prepared.key_secret_arn).toContain(`${PREFIX}example.com-change-run-1`);
  });

  it('finds the key it generated before when the step is retried, instead of making a second one', async () => {
    const first = await prepare();
    const again = await prepare();

    expect(stored.size).toBe(1);
    expect(again.identity.dkim?.public_key).toBe(first.identity.dkim?.public_key);
  });

  it('schedules for removal only old records the stack published, and lists the rest for a person', async () => {
    const ours = await prepare();
    const notOurs = await prepare({ ...publishedBefore, provider: 'manual', written: false });

    expect(ours.identity.change?.stale_removal).toEqual({
      provider: 'route53',
      hosted_zone_id: 'Z0EXAMPLE',
      hosted_zone_name: 'example.com',
      records: [{ type: 'TXT', name: 's1._domainkey.example.com' }],
      by_hand: [],
    });
    expect(notOurs.identity.change?.stale_removal).toMatchObject({
      provider: null,
      records: [],
      by_hand: [{ type: 'TXT', name: 's1._domainkey.example.com' }],
    });
  });

  it('switches to Easy DKIM first: SES names the tokens only then', async () => {
    const prepared = await prepareDkimChange(
      { ...rotation, SigningAttributesOrigin: 'AWS_SES', SigningAttributes: undefined },
      byodkimBefore,
      'run-1',
      NOW,
      { keySecretPrefix: PREFIX, registryItem: async () => undefined },
    );

    expect(prepared.publish_first).toBe(false);
    expect(prepared.key_secret_arn).toBeNull();
    expect(secrets).not.toHaveReceivedCommand(CreateSecretCommand);
  });
});
