import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#sandbox/emulators/eventbridge.js';
import { clientConfig, type Stack, startStack } from './stack.js';

const entry = (detail: object, extra: Record<string, unknown> = {}) => ({
  Source: 'ses-identity-verifier',
  DetailType: 'Email Identity Verified',
  Detail: JSON.stringify(detail),
  EventBusName: 'default',
  ...extra,
});

describe('emulated EventBridge', () => {
  let stack: Stack;
  let events: EventBridgeClient;
  beforeEach(async () => {
    stack = await startStack({ dns: false });
    events = new EventBridgeClient(clientConfig(stack.url));
  });
  afterEach(async () => {
    events.destroy();
    await stack.stop();
  });

  it('delivers valid entries with EventBridge envelope fields, and tells listeners as they arrive', async () => {
    const heard: DeliveredEvent[] = [];
    stack.events.onEvent((event) => heard.push(event));
    const result = await events.send(
      new PutEventsCommand({
        Entries: [entry({ identity: 'example.com' }, { Resources: ['arn:x'] })],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    const [delivered] = stack.events.events();
    expect(delivered).toMatchObject({
      id: result.Entries?.[0]?.EventId,
      source: 'ses-identity-verifier',
      'detail-type': 'Email Identity Verified',
      detail: { identity: 'example.com' },
      account: '000000000000',
      region: 'us-east-1',
      resources: ['arn:x'],
      time: '2026-01-01T00:00:00Z',
    });
    expect(heard).toEqual([delivered]);
  });

  it.each([
    ['a missing Source', { Source: undefined }, 'InvalidArgument'],
    ['a missing DetailType', { DetailType: undefined }, 'InvalidArgument'],
    ['a Detail that is not JSON', { Detail: '{not json' }, 'MalformedDetail'],
    ['a Detail that is a JSON array', { Detail: '[1]' }, 'MalformedDetail'],
  ])('fails an entry with %s and counts it in FailedEntryCount', async (_case, override, code) => {
    const result = await events.send(
      new PutEventsCommand({ Entries: [entry({ ok: true }), entry({}, override)] }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]?.EventId).toBeDefined();
    expect(result.Entries?.[1]?.ErrorCode).toBe(code);
    expect(stack.events.events()).toHaveLength(1);
  });

  it('fails every entry with InternalFailure at fault rate 1', async () => {
    const faulty = await startStack({ dns: false, events: { faults: { faultRate: 1 } } });
    const client = new EventBridgeClient(clientConfig(faulty.url));
    const result = await client.send(new PutEventsCommand({ Entries: [entry({}), entry({})] }));
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.map((e) => e.ErrorCode)).toEqual(['InternalFailure', 'InternalFailure']);
    client.destroy();
    await faulty.stop();
  });

  it('runs a rule registered in code for matching events only', async () => {
    const matched: string[] = [];
    const done = new Promise<void>((resolve) => {
      stack.events.addRule({
        name: 'onboarding',
        source: ['onboarding'],
        detailType: ['Tenant Created'],
        target: (event) => {
          matched.push((event.detail as { tenant: string }).tenant);
          resolve();
        },
      });
    });
    await events.send(
      new PutEventsCommand({
        Entries: [
          entry({ tenant: 'no' }),
          entry({ tenant: 'yes' }, { Source: 'onboarding', DetailType: 'Tenant Created' }),
        ],
      }),
    );
    await done;
    expect(matched).toEqual(['yes']);
  });
});

describe('emulated Secrets Manager', () => {
  let stack: Stack;
  let secrets: SecretsManagerClient;
  beforeEach(async () => {
    stack = await startStack({ dns: false });
    secrets = new SecretsManagerClient(clientConfig(stack.url));
  });
  afterEach(async () => {
    secrets.destroy();
    await stack.stop();
  });

  it('creates a secret with a real-shaped ARN and reads it back by name and by ARN', async () => {
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: 'dkim/example.com',
        SecretString: 'value',
        Tags: [{ Key: 'app', Value: 'x' }],
      }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:dkim\/example\.com-[A-Za-z0-9]{6}$/,
    );
    for (const id of ['dkim/example.com', created.ARN]) {
      const read = await secrets.send(new GetSecretValueCommand({ SecretId: id }));
      expect(read).toMatchObject({
        ARN: created.ARN,
        Name: 'dkim/example.com',
        SecretString: 'value',
        VersionStages: ['AWSCURRENT'],
      });
    }
    await expect(
      secrets.send(new CreateSecretCommand({ Name: 'dkim/example.com', SecretString: 'v' })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('forgets a force-deleted secret and refuses to read one scheduled for deletion', async () => {
    await secrets.send(new CreateSecretCommand({ Name: 'forced', SecretString: 'v' }));
    await secrets.send(
      new DeleteSecretCommand({ SecretId: 'forced', ForceDeleteWithoutRecovery: true }),
    );
    await expect(
      secrets.send(new GetSecretValueCommand({ SecretId: 'forced' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await secrets.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'v' }));
    const deleted = await secrets.send(
      new DeleteSecretCommand({ SecretId: 'scheduled', RecoveryWindowInDays: 7 }),
    );
    expect(deleted.DeletionDate).toEqual(new Date('2026-01-08T00:00:00Z'));
    await expect(
      secrets.send(new GetSecretValueCommand({ SecretId: 'scheduled' })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

describe('the one-port AWS endpoint', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ dns: false });
  });
  afterEach(async () => {
    await stack.stop();
  });

  it('refuses an unsigned request with 403', async () => {
    const response = await fetch(`${stack.url}/v2/email/identities`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('answers a service it does not emulate with UnknownServiceException', async () => {
    const sfn = new SFNClient(clientConfig(stack.url));
    const error = await sfn.send(new ListStateMachinesCommand({})).catch((e: unknown) => e);
    expect((error as Error).name).toBe('UnknownServiceException');
    sfn.destroy();
  });
});
