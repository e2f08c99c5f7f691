import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
// The handlers read their configuration, and their DynamoDB client its endpoint, as they load.
const registry = await vi.hoisted(async () => {
  process.env.STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity';
  process.env.KEY_SECRET_PREFIX = 'ses-identity-verifier/dkim-private-keys/';
  process.env.ONBOARDING_DKIM_CHANGE_DETAIL_TYPE = 'Email Identity DKIM Change Requested';
  process.env.EVENT_BUS_NAME = 'platform-events';
  process.env.EVENT_SOURCE = 'ses-identity-verifier';
  // Everything the starter can print is in scope: logs at every level.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler as getIdentityStatus } from '#api/get-identity-status/handler.js';
import { handler as startVerification } from '#api/start-verification/handler.js';
import { handler } from '#jobs/onboarding-starter/handler.js';
import { parseIdentityRequest } from '#shared/request/index.js';
import { runFingerprint, runIdFor } from '#shared/runs/start-run.js';
import { useClock } from '#shared/runtime/clock.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import { holdsKey } from '#test/support/key-material.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  registryItem,
} from '#test/support/registry-table.js';
import { bodyOf, getEvent, lambdaContext, postEvent, sdkError } from '#test/unit/api/support.js';
import { testKeys } from '#test/unit/shared/request/test-keys.js';

type OnboardingEvent = EventBridgeEvent<string, unknown>;

const NOW = new Date('2026-01-15T09:30:00.000Z');
const CREATE = 'Email Identity Requested';
const CHANGE = 'Email Identity DKIM Change Requested';

const sample = (file: string): OnboardingEvent =>
  JSON.parse(readFileSync(new URL(`../../../events/${file}`, import.meta.url), 'utf8'));

let eventCounter = 0;

/** An onboarding event as EventBridge delivers it, with an id of its own. */
function onboardingEvent(detail: unknown, detailType = CREATE): OnboardingEvent {
  eventCounter += 1;
  return {
    ...sample('onboarding-email-identity-requested.json'),
    id: `7f1c0b2e-0000-4000-8000-${String(eventCounter).padStart(12, '0')}`,
    'detail-type': detailType,
    detail,
  };
}

/** The queue's batch: each message is a whole EventBridge event (the rule's SQS target). */
function sqsBatch(...events: OnboardingEvent[]): SQSEvent {
  return {
    Records: events.map(
      (event, index) =>
        ({
          messageId: `message-${index + 1}`,
          receiptHandle: `handle-${index + 1}`,
          body: JSON.stringify(event),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:onboarding',
          awsRegion: 'us-east-1',
        }) as unknown as SQSRecord,
    ),
  };
}

const executionArn = (name: string) =>
  `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:${name}`;

afterAll(async () => {
  await registry.close();
});

describe('the onboarding starter', () => {
  const sfn = mockClient(SFNClient);
  const eventBridge = mockClient(EventBridgeClient);
  const ses = mockClient(SESv2Client);
  let written: string[] = [];

  beforeEach(async () => {
    sfn.reset();
    eventBridge.reset();
    ses.reset();
    await clearRegistryTable();
    useClock({ now: () => NOW });
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArn(input.name),
      startDate: NOW,
    }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    written = [];
    // Powertools writes its JSON lines to stdout and stderr through its own Console.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      });
    }
  });

  afterEach(() => {
    useClock();
    vi.restoreAllMocks();
  });

  const deliver = (...events: OnboardingEvent[]) => handler(sqsBatch(...events), lambdaContext);

  const startedNames = () =>
    sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);

  /** The details of the failure events the starter put, each checked against its schema. */
  function failureEvents() {
    return eventBridge.commandCalls(PutEventsCommand).flatMap((call) =>
      (call.args[0].input.Entries ?? []).map((entry) => {
        expect(entry).toMatchObject({
          EventBusName: 'platform-events',
          Source: 'ses-identity-verifier',
          DetailType: 'Email Identity Verification Failed',
        });
        const detail = JSON.parse(entry.Detail ?? '{}');
        expectValidDetail('Email Identity Verification Failed', detail);
        return detail;
      }),
    );
  }

  describe('an onboarding event that asks for a run', () => {
    it('starts the run through the API start path, keyed by the event id', async () => {
      const event = sample('onboarding-email-identity-requested.json');

      await expect(deliver(event)).resolves.toEqual({ batchItemFailures: [] });

      const request = parseIdentityRequest(event.detail, { keyDelivery: 'secret' });
      const runId = runIdFor(
        'mail.example.com',
        runFingerprint(request, 'DkimSigningAttributes'),
        `event:${event.id}`,
      );
      expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
        stateMachineArn: STATE_MACHINE_ARN,
        name: runId,
        input: JSON.stringify(request),
      });
      expect(await registryItem('mail.example.com')).toMatchObject({
        status: 'PENDING',
        active_run_id: runId,
        latest_run: { id: runId, operation: 'CreateIdentity' },
      });
      expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
    });

    it('starts a DKIM change for the change detail-type', async () => {
      const event = sample('onboarding-dkim-change.json');

      await deliver(event);

      const [call] = sfn.commandCalls(StartExecutionCommand);
      expect(JSON.parse(call?.args[0].input.input ?? '{}')).toMatchObject({
        Operation: 'ChangeDkimSigning',
        EmailIdentity: 'mail.example.com',
        SigningAttributesOrigin: 'EXTERNAL',
      });
      expect((await registryItem('mail.example.com'))?.latest_run?.operation).toBe(
        'ChangeDkimSigning',
      );
    });

    it('is visible to the API: GET shows its run, and a POST of the same request gets it', async () => {
      const event = sample('onboarding-email-identity-requested.json');
      ses
        .on(GetEmailIdentityCommand)
        .rejects(new NotFoundException({ message: 'not found', $metadata: {} }));
      await deliver(event);
      const [runId] = startedNames();

      const status = await getIdentityStatus(getEvent('mail.example.com'), lambdaContext);
      const posted = await startVerification(postEvent(event.detail), lambdaContext);

      expect(bodyOf(status).data).toMatchObject({
        status: 'PENDING',
        managed: true,
        latest_run: { id: runId, status: 'PENDING' },
      });
      expect(posted.statusCode).toBe(202);
      expect(bodyOf(posted).data).toMatchObject({ id: runId, repeated: true });
      expect(startedNames()).toEqual([runId]);
    });
  });

  describe('an event EventBridge delivers more than once', () => {
    it('starts one run for three copies in one batch', async () => {
      const event = onboardingEvent({ EmailIdentity: 'tenant1.example.com' });

      await expect(deliver(event, event, event)).resolves.toEqual({ batchItemFailures: [] });

      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
    });

    it('starts one run for three copies delivered one after another', async () => {
      const event = onboardingEvent({ EmailIdentity: 'tenant1.example.com' });

      for (let copy = 0; copy < 3; copy += 1) await deliver(event);

      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
    });

    it.each(['VERIFIED', 'FAILED'] as const)(
      'starts nothing, and sends no contradicting event, for a copy that arrives after its run %s',
      async (status) => {
        const event = onboardingEvent({
          EmailIdentity: 'tenant1.example.com',
          DkimSigningAttributes: { DomainSigningSelector: 's1', GenerateDomainSigningKey: {} },
        });
        await deliver(event);
        const [runId = ''] = startedNames();
        expect(runId).not.toBe('');
        await endRunInRegistry('tenant1.example.com', runId, status, NOW);

        await deliver(event);

        expect(startedNames()).toEqual([runId]);
        expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
      },
    );

    it('starts a second run for a second event with the same request once the first has failed', async () => {
      const first = onboardingEvent({ EmailIdentity: 'tenant1.example.com' });
      await deliver(first);
      const [firstRun = ''] = startedNames();
      await endRunInRegistry('tenant1.example.com', firstRun, 'FAILED', NOW);

      await deliver(onboardingEvent({ EmailIdentity: 'tenant1.example.com' }));

      expect(startedNames()).toHaveLength(2);
      expect(startedNames()[1]).not.toBe(firstRun);
    });
  });

  describe('an event that carries a private key', () => {
    const der = testKeys.rsa2048Pkcs1;
    const pem = testKeys.rsa2048Pem;

    it.each([
      [
        'SigningAttributes.DomainSigningPrivateKey under the creation type',
        CREATE,
        {
          EmailIdentity: 'mail.example.com',
          SigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: der },
        },
        'SigningAttributes.DomainSigningPrivateKey',
        der,
      ],
      [
        'DkimSigningAttributes.DomainSigningPrivateKey under the change type',
        CHANGE,
        {
          EmailIdentity: 'mail.example.com',
          SigningAttributesOrigin: 'EXTERNAL',
          DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: der },
        },
        'DkimSigningAttributes.DomainSigningPrivateKey',
        der,
      ],
      [
        'SigningAttributes.DomainSigningPrivateKey inline under the change type',
        CHANGE,
        {
          EmailIdentity: 'mail.example.com',
          SigningAttributesOrigin: 'EXTERNAL',
          SigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: der },
        },
        'SigningAttributes.DomainSigningPrivateKey',
        der,
      ],
      [
        'a mis-cased domainSigningPrivateKey',
        CREATE,
        {
          EmailIdentity: 'mail.example.com',
          DkimSigningAttributes: { DomainSigningSelector: 's1', domainSigningPrivateKey: der },
        },
        'DkimSigningAttributes.domainSigningPrivateKey',
        der,
      ],
      [
        'a key at the top level',
        CREATE,
        { EmailIdentity: 'mail.example.com', DomainSigningPrivateKey: der },
        'DomainSigningPrivateKey',
        der,
      ],
      [
        'a snake_case private_key in a list',
        CREATE,
        { EmailIdentity: 'mail.example.com', Tags: [{ Key: 'k', Value: 'v', private_key: pem }] },
        'Tags[0].private_key',
        pem,
      ],
      [
        'a PEM under an innocent field name',
        CREATE,
        { EmailIdentity: 'mail.example.com', Notes: pem },
        'Notes',
        pem,
      ],
      [
        'base64 DER as a tag value',
        CREATE,
        { EmailIdentity: 'mail.example.com', Tags: [{ Key: 'dkim', Value: der }] },
        'Tags[0].Value',
        der,
      ],
      [
        'a PKCS#8 key under a secret ARN field',
        CREATE,
        {
          EmailIdentity: 'mail.example.com',
          DkimSigningAttributes: {
            DomainSigningSelector: 's1',
            DomainSigningPrivateKeySecretArn: testKeys.rsa1024Pkcs8,
          },
        },
        'DkimSigningAttributes.DomainSigningPrivateKeySecretArn',
        testKeys.rsa1024Pkcs8,
      ],
    ])(
      'starts no run for %s, and its failure event names the path but not the key',
      async (_shape, detailType, detail, path, key) => {
        const event = onboardingEvent(detail, detailType);

        await expect(deliver(event)).resolves.toEqual({ batchItemFailures: [] });

        expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
        expect(await registryItem('mail.example.com')).toBeUndefined();
        const [failure, ...others] = failureEvents();
        expect(others).toEqual([]);
        expect(failure).toMatchObject({
          identity: 'mail.example.com',
          identity_type: 'DOMAIN',
          execution_id: null,
          reason: {
            code: 'VALIDATION_ERROR',
            retryable: false,
            message: expect.stringContaining(`(at ${path})`),
          },
          details: [
            { field: path, message: expect.stringContaining('DomainSigningPrivateKeySecretArn') },
          ],
        });
        expect(failure.reason.message).toContain('Secrets Manager');
        const everythingOut = [
          JSON.stringify(eventBridge.calls().map((call) => call.args[0].input)),
          ...written,
        ].join('\n');
        expect(holdsKey(everythingOut, key)).toBe(false);
      },
    );

    it('does not echo a key used as a field name above one', async () => {
      const event = onboardingEvent({
        EmailIdentity: 'mail.example.com',
        Extra: { [der.slice(0, 200)]: { privateKey: 'x' } },
      });

      await deliver(event);

      const [failure] = failureEvents();
      expect(failure.reason.code).toBe('VALIDATION_ERROR');
      expect(failure.details).toEqual([
        { field: expect.stringMatching(/^Extra\["/), message: expect.any(String) },
      ]);
      expect(holdsKey(JSON.stringify(failure), der)).toBe(false);
      expect(holdsKey(written.join('\n'), der)).toBe(false);
    });

    it('starts the run for a key held in a secret, the one way to bring one', async () => {
      const event = onboardingEvent({
        EmailIdentity: 'mail.example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKeySecretArn:
            'arn:aws:secretsmanager:us-east-1:123456789012:secret:ses-identity-verifier/dkim-private-keys/mail-AbCdEf',
        },
      });

      await deliver(event);

      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
    });
  });

  describe('an event that cannot start a run', () => {
    it('gets a VALIDATION_ERROR failure event listing every problem of an invalid request', async () => {
      await deliver(
        onboardingEvent({
          EmailIdentity: 'mail.example.com',
          Tags: [{ Key: 'aws:owner', Value: 'x' }],
          Dns: { Provider: 'bind' },
        }),
      );

      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      const [failure] = failureEvents();
      expect(failure).toMatchObject({
        identity: 'mail.example.com',
        reason: { code: 'VALIDATION_ERROR', retryable: false },
      });
      expect(failure.details.map((d: { field: string }) => d.field)).toEqual(
        expect.arrayContaining(['Tags[0].Key', 'Dns.Provider']),
      );
    });

    it('names no identity when the event names none that is valid (the malformed sample)', async () => {
      await deliver(sample('onboarding-malformed.json'));

      const [failure] = failureEvents();
      expect(failure).toMatchObject({
        identity: null,
        identity_type: null,
        reason: { code: 'VALIDATION_ERROR', retryable: false },
      });
      expect(failure.details.map((d: { field: string }) => d.field)).toEqual(
        expect.arrayContaining(['EmailIdentity', 'Dns.Provider']),
      );
    });

    it('gets a CONFLICT failure event naming the run when a different request holds the identity', async () => {
      const posted = await startVerification(
        postEvent({ EmailIdentity: 'mail.example.com' }),
        lambdaContext,
      );
      const holder = bodyOf(posted).data.id;

      await expect(
        deliver(onboardingEvent({ EmailIdentity: 'mail.example.com', Tags: [{ Key: 't' }] })),
      ).resolves.toEqual({ batchItemFailures: [] });

      expect(startedNames()).toEqual([holder]);
      const [failure] = failureEvents();
      expect(failure).toMatchObject({
        identity: 'mail.example.com',
        reason: {
          code: 'CONFLICT',
          retryable: false,
          message: expect.stringContaining(`(run ${holder})`),
        },
        details: [],
      });
    });
  });

  describe('a transient failure', () => {
    it('fails only the throttled record, leaving its identity free, and starts it when it comes again', async () => {
      const slow = { input: JSON.stringify({ EmailIdentity: 'slow.example.com' }) };
      sfn.on(StartExecutionCommand, slow).rejects(sdkError('ThrottlingException'));
      const throttled = onboardingEvent({ EmailIdentity: 'slow.example.com' });

      const result = await deliver(
        onboardingEvent({ EmailIdentity: 'fine.example.com' }),
        throttled,
      );

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-2' }] });
      expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
      expect(await registryItem('slow.example.com')).toBeUndefined();
      expect(await registryItem('fine.example.com')).toMatchObject({ status: 'PENDING' });

      sfn.on(StartExecutionCommand, slow).resolves({ executionArn: 'arn', startDate: NOW });
      await expect(deliver(throttled)).resolves.toEqual({ batchItemFailures: [] });
      expect(await registryItem('slow.example.com')).toMatchObject({ status: 'PENDING' });
    });

    it('fails the whole invocation when every record fails, so that none is lost', async () => {
      sfn.on(StartExecutionCommand).rejects(sdkError('ThrottlingException'));

      await expect(
        deliver(onboardingEvent({ EmailIdentity: 'slow.example.com' })),
      ).rejects.toThrow();
    });

    it('fails the record when EventBridge refuses its failure event, so that it is not lost', async () => {
      eventBridge.on(PutEventsCommand).resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      });
      const refused = onboardingEvent({ EmailIdentity: 'mail.example.com', Colour: 'blue' });

      const result = await deliver(onboardingEvent({ EmailIdentity: 'ok.example.com' }), refused);

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-2' }] });
    });

    it('fails a record whose body is not an event, for the dead-letter queue', async () => {
      const batch = sqsBatch(onboardingEvent({ EmailIdentity: 'ok.example.com' }));
      batch.Records.push({ ...(batch.Records[0] as SQSRecord), messageId: 'garbled', body: '{' });

      const result = await handler(batch, lambdaContext);

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'garbled' }] });
    });
  });
});
