import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its table, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { claimIdentity } from '#shared/registry/registry.js';
import { parseIdentityRequest } from '#shared/request/index.js';
import { requestFingerprint } from '#shared/runs/request-fingerprint.js';
import { useClock } from '#shared/runtime/clock.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import { handler } from '#steps/claim-identity/handler.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  pendingRun,
  REGISTRY_TABLE,
  registryItem,
} from '#test/support/registry-table.js';
import { lambdaContext } from '#test/unit/api/support.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const EARLIER = new Date('2026-12-01T09:59:58.000Z');
const EXECUTION_ID = 'mail_example_com-1a2b3c4d-0123456789abcdef';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${EXECUTION_ID}`;

/** ClaimIdentity's input, as the state machine passes it. */
const claimInput = (request: unknown) => ({
  request,
  execution_id: EXECUTION_ID,
  execution_arn: EXECUTION_ARN,
});

afterAll(async () => {
  await registry.close();
});

describe('ClaimIdentity', () => {
  beforeEach(async () => {
    await clearRegistryTable();
    useClock({ now: () => NOW });
  });
  afterEach(() => {
    useClock();
  });

  it('claims the identity for a run started by hand, under its normalised name', async () => {
    const request = { EmailIdentity: 'Mail.Example.COM.', Tags: [{ Key: 'tenant', Value: 'a' }] };

    const claim = await handler(claimInput(request), lambdaContext);

    expect(claim).toEqual({
      identity: 'mail.example.com',
      identity_type: 'DOMAIN',
      operation: 'CreateIdentity',
      replicas: { status: 'NOT_REQUESTED', regions: [] },
      started_by: 'REQUEST',
    });
    expect(await registryItem('mail.example.com')).toMatchObject({
      status: 'PENDING',
      active_run_id: EXECUTION_ID,
      latest_run: {
        id: EXECUTION_ID,
        execution_arn: EXECUTION_ARN,
        operation: 'CreateIdentity',
        request_hash: requestFingerprint(parseIdentityRequest(request, { keyDelivery: 'secret' })),
        started_at: NOW.toISOString(),
        status: 'PENDING',
      },
    });
  });

  it.each([
    [
      'a DKIM change',
      { EmailIdentity: 'mail.example.com', SigningAttributesOrigin: 'AWS_SES' },
      {
        identity: 'mail.example.com',
        identity_type: 'DOMAIN',
        operation: 'ChangeDkimSigning',
        started_by: 'REQUEST',
      },
    ],
    [
      'an offboarding',
      {
        Operation: 'DeleteIdentity',
        EmailIdentity: 'Mail.Example.com',
        Unmanaged: false,
        StoppedRun: null,
        KeySecretArn: null,
      },
      {
        identity: 'mail.example.com',
        identity_type: 'DOMAIN',
        operation: 'DeleteIdentity',
        started_by: 'REQUEST',
      },
    ],
    [
      'an address',
      { EmailIdentity: 'Ops@Example.com' },
      {
        identity: 'Ops@example.com',
        identity_type: 'EMAIL_ADDRESS',
        operation: 'CreateIdentity',
        started_by: 'REQUEST',
      },
    ],
    [
      'a domain with DEED replicas, each Region waiting for the parent',
      { EmailIdentity: 'mail.example.com', Replicas: ['eu-west-1'] },
      {
        identity: 'mail.example.com',
        identity_type: 'DOMAIN',
        operation: 'CreateIdentity',
        replicas: {
          status: 'PENDING',
          regions: [
            {
              region: 'eu-west-1',
              status: 'PENDING',
              detail: 'Created once the parent identity is verified.',
            },
          ],
        },
        started_by: 'REQUEST',
      },
    ],
  ])('claims for %s', async (_what, request, expected) => {
    await expect(handler(claimInput(request), lambdaContext)).resolves.toEqual({
      replicas: { status: 'NOT_REQUESTED', regions: [] },
      ...expected,
    });
    expect((await registryItem(expected.identity))?.latest_run?.operation).toBe(expected.operation);
  });

  it('keeps the creation request, without its key secret, and AutoRestart for the sweeper', async () => {
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/dkim-private-keys/k-AbCdEf';
    const request = {
      EmailIdentity: 'mail.example.com',
      Tags: [{ Key: 'tenant', Value: 'a' }],
      DkimSigningAttributes: {
        DomainSigningSelector: 's1',
        DomainSigningPrivateKeySecretArn: secretArn,
      },
      AutoRestart: false,
    };

    await handler(claimInput(request), lambdaContext);

    const item = await registryItem('mail.example.com');
    expect(item?.auto_restart).toBe(false);
    expect(JSON.parse(item?.restart_request_json ?? 'null')).toEqual({
      EmailIdentity: 'mail.example.com',
      Tags: [{ Key: 'tenant', Value: 'a' }],
      DkimSigningAttributes: { DomainSigningSelector: 's1' },
      AutoRestart: false,
    });
    expect(JSON.stringify(item)).not.toContain(secretArn);
  });

  it('turns AutoRestart on when a creation request leaves it out, and drops the restart request on a DKIM change', async () => {
    await handler(claimInput({ EmailIdentity: 'mail.example.com' }), lambdaContext);
    expect(await registryItem('mail.example.com')).toMatchObject({
      auto_restart: true,
      restart_request_json: JSON.stringify({ EmailIdentity: 'mail.example.com' }),
    });
    await endRunInRegistry('mail.example.com', EXECUTION_ID, 'VERIFIED', NOW);

    await handler(
      {
        ...claimInput({ EmailIdentity: 'mail.example.com', SigningAttributesOrigin: 'AWS_SES' }),
        execution_id: 'change-run',
      },
      lambdaContext,
    );

    const item = await registryItem('mail.example.com');
    expect(item?.auto_restart).toBe(true);
    expect(item?.restart_request_json).toBeUndefined();
  });

  it('refuses an AutoRestart that is not a boolean, naming the field', async () => {
    await expect(
      handler(claimInput({ EmailIdentity: 'mail.example.com', AutoRestart: 'yes' }), lambdaContext),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      details: [{ field: 'AutoRestart', message: 'must be true or false' }],
    });
  });

  it('fails ValidationError for an offboarding request with an unknown field or no flag', async () => {
    await expect(
      handler(
        claimInput({ Operation: 'DeleteIdentity', EmailIdentity: 'mail.example.com', Extra: 1 }),
        lambdaContext,
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      details: [
        { field: 'Extra', message: 'is not a known field' },
        { field: 'Unmanaged', message: 'must be true or false' },
        { field: 'StoppedRun', message: 'must be a string or null' },
        { field: 'KeySecretArn', message: 'must be a string or null' },
      ],
    });
    expect(await registryItem('mail.example.com')).toBeUndefined();
  });

  it('goes on without a write when the API already claimed the identity for this very execution', async () => {
    const apiRun = { ...pendingRun(EXECUTION_ID, EARLIER, 'the-api-fingerprint') };
    await claimIdentity(REGISTRY_TABLE, 'mail.example.com', 'DOMAIN', apiRun, EARLIER);
    const before = await registryItem('mail.example.com');

    const claim = await handler(claimInput({ EmailIdentity: 'mail.example.com' }), lambdaContext);

    expect(claim.identity).toBe('mail.example.com');
    expect(await registryItem('mail.example.com')).toEqual(before);
  });

  it('fails ConflictError naming the run that holds the identity, leaving its claim alone', async () => {
    await claimIdentity(
      REGISTRY_TABLE,
      'mail.example.com',
      'DOMAIN',
      pendingRun('other-run', EARLIER),
      EARLIER,
    );
    const before = await registryItem('mail.example.com');

    const claiming = handler(claimInput({ EmailIdentity: 'mail.example.com' }), lambdaContext);

    await expect(claiming).rejects.toBeInstanceOf(ConflictError);
    await expect(claiming).rejects.toThrow(
      'Another run (other-run) is working on mail.example.com',
    );
    expect(await registryItem('mail.example.com')).toEqual(before);
  });

  it('fails ConflictError when this run already ended, rather than run a second time', async () => {
    await claimIdentity(
      REGISTRY_TABLE,
      'mail.example.com',
      'DOMAIN',
      pendingRun(EXECUTION_ID, EARLIER),
      EARLIER,
    );
    await endRunInRegistry('mail.example.com', EXECUTION_ID, 'FAILED', EARLIER);

    await expect(
      handler(claimInput({ EmailIdentity: 'mail.example.com' }), lambdaContext),
    ).rejects.toThrow('mail.example.com was already worked on by this run, which has ended');
    expect((await registryItem('mail.example.com'))?.active_run_id).toBeUndefined();
  });

  it('fails ValidationError for an invalid request, with every problem, claiming nothing', async () => {
    const claiming = handler(
      claimInput({ EmailIdentity: 'mail.example.com', Tags: [{ Key: 'aws:x' }], Colour: 'blue' }),
      lambdaContext,
    );

    await expect(claiming).rejects.toBeInstanceOf(ValidationError);
    await expect(claiming).rejects.toMatchObject({
      details: expect.arrayContaining([
        expect.objectContaining({ field: 'Tags[0].Key' }),
        expect.objectContaining({ field: 'Colour' }),
      ]),
    });
    expect(await registryItem('mail.example.com')).toBeUndefined();
  });

  it('refuses a private key in its input, where only a secret ARN may be, without quoting it', async () => {
    const key = testKeys.rsa2048Pkcs1;
    const request = {
      EmailIdentity: 'mail.example.com',
      DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
    };

    const error = await handler(claimInput(request), lambdaContext).catch((e: Error) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).not.toContain(key.slice(100, 140));
    expect(await registryItem('mail.example.com')).toBeUndefined();
  });
});
