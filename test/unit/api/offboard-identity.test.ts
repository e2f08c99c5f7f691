import {
  GetEmailIdentityCommand,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its configuration, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler } from '#api/offboard-identity/handler.js';
import type { RegistryItem } from '#shared/registry/items.js';
import { useClock } from '#shared/runtime/clock.js';
import {
  clearRegistryTable,
  pendingRun,
  putRegistryItem,
  registryItem,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, lambdaContext } from './support.js';

const NOW = new Date('2026-12-01T10:30:00.000Z');
const CREATED = new Date('2026-11-20T08:00:00.000Z');
const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:ses-identity-verifier/dkim-private-keys/mail.example.com-0123456789ab-AbCdEf';

afterAll(async () => {
  await registry.close();
});

/** DELETE /identities/{identity}, as API Gateway hands it over. */
function deleteEvent(identity: string, query?: Record<string, string>): APIGatewayProxyEventV2 {
  const event = apiEvent('api-get-identity-status.json');
  return {
    ...event,
    routeKey: 'DELETE /identities/{identity}',
    rawPath: `/identities/${identity}`,
    pathParameters: { identity },
    ...(query && { queryStringParameters: query }),
    body: undefined,
  };
}

/** The registry item of an identity a run verified. */
function verifiedItem(overrides: Partial<RegistryItem> = {}): RegistryItem {
  return {
    identity: 'mail.example.com',
    kind: 'IDENTITY',
    identity_type: 'DOMAIN',
    status: 'VERIFIED',
    dkim_status: 'SUCCESS',
    created_at: CREATED.toISOString(),
    updated_at: CREATED.toISOString(),
    latest_run: { ...pendingRun('mail_example_com-run1', CREATED), status: 'VERIFIED' },
    ...overrides,
  };
}

describe('OffboardIdentity (DELETE /identities/{identity})', () => {
  const sfn = mockClient(SFNClient);
  const ses = mockClient(SESv2Client);

  beforeEach(async () => {
    sfn.reset();
    ses.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${input.name}`,
      startDate: NOW,
    }));
    ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'DOMAIN' });
  });
  afterEach(() => useClock());

  function startedInput() {
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    return JSON.parse(calls[0]?.args[0].input.input ?? '{}');
  }

  it('starts the offboarding run of a managed identity, claiming it in the registry', async () => {
    await putRegistryItem(verifiedItem());

    const response = await handler(deleteEvent('Mail.Example.com'), lambdaContext);

    expect(response.statusCode).toBe(202);
    const data = bodyOf(response).data;
    expect(data).toMatchObject({
      identity: 'mail.example.com',
      identity_type: 'DOMAIN',
      status: 'PENDING',
      operation: 'DeleteIdentity',
      repeated: false,
      stopped_run: null,
    });
    expect(startedInput()).toEqual({
      Operation: 'DeleteIdentity',
      EmailIdentity: 'mail.example.com',
      Unmanaged: false,
      StoppedRun: null,
      KeySecretArn: null,
    });
    expect(await registryItem('mail.example.com')).toMatchObject({
      active_run_id: data.id,
      latest_run: { id: data.id, operation: 'DeleteIdentity' },
    });
    // The registry knows it: SES is not asked.
    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
  });

  it('answers a repeat while the offboarding runs with the same run, starting nothing', async () => {
    await putRegistryItem(verifiedItem());
    const first = bodyOf(await handler(deleteEvent('mail.example.com'), lambdaContext)).data;

    const again = await handler(deleteEvent('mail.example.com'), lambdaContext);

    expect(again.statusCode).toBe(202);
    expect(bodyOf(again).data).toMatchObject({ id: first.id, repeated: true });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('stops the run that holds the identity, ends it FAILED and hands its key secret on', async () => {
    const holder = pendingRun('mail_example_com-creating', CREATED);
    await putRegistryItem(
      verifiedItem({ status: 'PENDING', active_run_id: holder.id, latest_run: holder }),
    );
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'RUNNING',
      input: JSON.stringify({
        EmailIdentity: 'mail.example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn: SECRET_ARN,
        },
      }),
    });
    sfn.on(StopExecutionCommand).resolves({ stopDate: NOW });

    const response = await handler(deleteEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).data.stopped_run).toBe(holder.id);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: holder.execution_arn,
      error: 'OFFBOARDED',
    });
    expect(startedInput()).toMatchObject({ StoppedRun: holder.id, KeySecretArn: SECRET_ARN });
    const stopped = sfn.commandCalls(StopExecutionCommand)[0];
    const started = sfn.commandCalls(StartExecutionCommand)[0];
    expect(stopped?.calledBefore(started as never)).toBe(true);
  });

  it('stops nothing when the run that held the identity has ended meanwhile, and still offboards', async () => {
    const holder = pendingRun('mail_example_com-creating', CREATED);
    await putRegistryItem(
      verifiedItem({ status: 'PENDING', active_run_id: holder.id, latest_run: holder }),
    );
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: '{}' });

    const response = await handler(deleteEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).data.stopped_run).toBeNull();
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(startedInput()).toMatchObject({ StoppedRun: null, KeySecretArn: null });
  });

  it('returns 404 NOT_FOUND when neither the registry nor SES knows the identity', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'not found', $metadata: {} }));

    const response = await handler(deleteEvent('nobody.example.com'), lambdaContext);

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).error.code).toBe('NOT_FOUND');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('returns 409 CONFLICT, naming ?unmanaged=true, for an identity the stack never managed', async () => {
    const response = await handler(deleteEvent('outsider.example.com'), lambdaContext);

    expect(response.statusCode).toBe(409);
    expect(bodyOf(response).error.message).toContain('?unmanaged=true');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(await registryItem('outsider.example.com')).toBeUndefined();
  });

  it('offboards an identity the stack never managed when asked with ?unmanaged=true', async () => {
    const response = await handler(
      deleteEvent('outsider.example.com', { unmanaged: 'true' }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(202);
    expect(startedInput()).toMatchObject({
      EmailIdentity: 'outsider.example.com',
      Unmanaged: true,
    });
  });

  it.each([
    ['a malformed identity', deleteEvent('bad..example.com'), 'identity'],
    ['a bad unmanaged flag', deleteEvent('mail.example.com', { unmanaged: 'yes' }), 'unmanaged'],
  ])('returns 400 VALIDATION_ERROR for %s, calling nothing', async (_label, event, field) => {
    const response = await handler(event, lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).error.details[0].field).toBe(field);
    expect(sfn.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it('returns 429 THROTTLED when SES throttles the look at an identity the registry lacks', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'Too many requests', $metadata: {} }));

    const response = await handler(deleteEvent('outsider.example.com'), lambdaContext);

    expect(response.statusCode).toBe(429);
  });
});
