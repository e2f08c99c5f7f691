import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  type DkimSigningAttributesOrigin,
  type DkimStatus,
  GetEmailIdentityCommand,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sesv2ClientFor, watchRegionalClients } from '#shared/aws/clients/sesv2.js';
import { nextReplicaWaitSeconds } from '#shared/ses/replica-identity.js';
import { checkReplica } from '#steps/check-replica/check-replica.js';
import { createReplica } from '#steps/create-replica/create-replica.js';

const NOW = new Date('2026-11-02T09:00:00.000Z');
const TOKENS = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)];
const metadata = { $metadata: {} };
const dkim = (status: DkimStatus, origin: DkimSigningAttributesOrigin = 'AWS_SES_US_EAST_1') => ({
  DkimAttributes: { Status: status, Tokens: TOKENS, SigningAttributesOrigin: origin },
});

describe('DEED replica steps', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(() => {
    ses.reset();
    vi.stubEnv('AWS_REGION', 'us-east-1');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe('createReplica', () => {
    it('creates the identity in the replica Region, replicating this Region: PENDING, first look in a minute', async () => {
      const regions: string[] = [];
      ses.on(CreateEmailIdentityCommand).callsFake(async (_input, getClient) => {
        regions.push(await getClient().config.region());
        return dkim('PENDING');
      });

      const result = await createReplica({ identity: 'example.com', region: 'eu-west-1' }, NOW);

      expect(ses).toHaveReceivedCommandWith(CreateEmailIdentityCommand, {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_US_EAST_1' },
      });
      expect(regions).toEqual(['eu-west-1']);
      expect(result).toMatchObject({
        region: 'eu-west-1',
        status: 'PENDING',
        created_at: NOW.toISOString(),
        checks: 1,
        next_check_seconds: 60,
      });
    });

    it('adopts a replica SES already has with the same origin (a retried step)', async () => {
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new AlreadyExistsException({ message: 'exists', ...metadata }));
      ses.on(GetEmailIdentityCommand).resolves(dkim('SUCCESS'));

      const result = await createReplica({ identity: 'example.com', region: 'eu-west-1' }, NOW);

      expect(result).toMatchObject({ region: 'eu-west-1', status: 'READY' });
    });

    it('leaves an identity with DKIM of its own alone, and says so: FAILED', async () => {
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new AlreadyExistsException({ message: 'exists', ...metadata }));
      ses.on(GetEmailIdentityCommand).resolves(dkim('SUCCESS', 'EXTERNAL'));

      const result = await createReplica({ identity: 'example.com', region: 'eu-west-1' }, NOW);

      expect(result.status).toBe('FAILED');
      expect(result.detail).toContain('already exists in eu-west-1 with DKIM of its own');
      expect(ses).toHaveReceivedCommandTimes(CreateEmailIdentityCommand, 1);
    });

    it('throws ThrottlingError naming the Region when SES there throttles, for the queue to retry', async () => {
      ses
        .on(CreateEmailIdentityCommand)
        .rejects(new TooManyRequestsException({ message: 'Too many requests.', ...metadata }));

      await expect(
        createReplica({ identity: 'example.com', region: 'ap-southeast-2' }, NOW),
      ).rejects.toMatchObject({
        name: 'ThrottlingError',
        message: expect.stringContaining('CreateEmailIdentity in ap-southeast-2'),
      });
    });

    it("is FAILED with SES's words and the ReplicaRegions hint when IAM refuses the Region", async () => {
      // As the SDK raises an IAM refusal: SES's model has no shape for it.
      const denied = Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      });
      ses.on(CreateEmailIdentityCommand).rejects(denied);

      const result = await createReplica({ identity: 'example.com', region: 'sa-east-1' }, NOW);

      expect(result).toMatchObject({ region: 'sa-east-1', status: 'FAILED' });
      expect(result.detail).toBe(
        'SES in sa-east-1 refused CreateEmailIdentity: AccessDeniedException: not authorized. The stack may create replicas only in the Regions of its ReplicaRegions parameter.',
      );
    });
  });

  describe('checkReplica', () => {
    const pending = {
      region: 'eu-west-1',
      status: 'PENDING' as const,
      detail: '',
      created_at: NOW.toISOString(),
      checks: 1,
      next_check_seconds: 60,
      dkim_status: 'PENDING',
    };

    it('is READY once SES in the Region reports SUCCESS', async () => {
      ses.on(GetEmailIdentityCommand).resolves(dkim('SUCCESS'));

      const result = await checkReplica({ identity: 'example.com', replica: pending }, NOW);

      expect(result).toMatchObject({ status: 'READY', checks: 2, next_check_seconds: 0 });
    });

    it('waits longer after each look while SES has not verified it', async () => {
      ses.on(GetEmailIdentityCommand).resolves(dkim('PENDING'));

      const result = await checkReplica(
        { identity: 'example.com', replica: { ...pending, checks: 3 } },
        new Date(NOW.getTime() + 10 * 60_000),
      );

      expect(result).toMatchObject({ status: 'PENDING', checks: 4, next_check_seconds: 480 });
    });

    it('is FAILED after 72 hours without SUCCESS', async () => {
      ses.on(GetEmailIdentityCommand).resolves(dkim('PENDING'));

      const result = await checkReplica(
        { identity: 'example.com', replica: pending },
        new Date(NOW.getTime() + 72 * 3600_000),
      );

      expect(result.status).toBe('FAILED');
      expect(result.detail).toContain('within 72 hours');
    });

    it('is FAILED when the replica was deleted meanwhile', async () => {
      ses
        .on(GetEmailIdentityCommand)
        .rejects(new NotFoundException({ message: 'gone', ...metadata }));

      const result = await checkReplica({ identity: 'example.com', replica: pending }, NOW);

      expect(result).toMatchObject({
        status: 'FAILED',
        detail: expect.stringContaining('deleted'),
      });
    });
  });

  it.each([
    [1, 100_000, 60],
    [2, 100_000, 120],
    [7, 100_000, 3600],
    [9, 100_000, 3600],
    [3, 30, 30],
  ])('waits %i looks in: %i s left gives %i s', (checks, left, wait) => {
    expect(nextReplicaWaitSeconds(checks, left)).toBe(wait);
  });

  it('keeps one SES client per Region, made on first use, in that Region', async () => {
    const ireland = sesv2ClientFor('eu-west-1');

    expect(sesv2ClientFor('eu-west-1')).toBe(ireland);
    expect(sesv2ClientFor('ap-southeast-2')).not.toBe(ireland);
    expect(await ireland.config.region()).toBe('eu-west-1');
  });

  it("hands a watcher every Region's client, those made before it and each one as it is made", () => {
    const before = sesv2ClientFor('eu-central-1');
    const watched: unknown[] = [];
    watchRegionalClients((client) => watched.push(client));
    expect(watched).toContain(before);
    const count = watched.length;

    const after = sesv2ClientFor('us-gov-west-1');
    expect(watched).toHaveLength(count + 1);
    expect(watched.at(-1)).toBe(after);
    sesv2ClientFor('us-gov-west-1');
    expect(watched).toHaveLength(count + 1);
  });
});
