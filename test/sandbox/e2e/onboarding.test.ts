import { generateKeyPairSync } from 'node:crypto';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeOf } from '#sandbox/emulators/eventbridge.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { TERMINAL_DETAIL_TYPES, terminalEventOf } from './harness.js';

// Onboarding as template.yaml wires it: an event on the bus, the onboarding rule, its queue, the
// starter function on the queue's event source mapping, the same start logic as the API.
let stack: SandboxStack;

beforeAll(async () => {
  stack = await startStack({ zones: ['example.com'], apiPort: false });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

const parameters = () => stack.deployment.parameters;
/** Puts one onboarding event on the bus, as an onboarding system would. */
async function onboard(detail: unknown, detailType = String(parameters().OnboardingDetailType)) {
  const output = await stack.clients.eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: String(parameters().OnboardingEventSource),
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  expect(output.FailedEntryCount).toBe(0);
}
/** The executions started for an identity. */
const runsOf = (identity: string) =>
  stack.stateMachine
    .list()
    .filter(
      (execution) =>
        (JSON.parse(execution.input) as { EmailIdentity?: string }).EmailIdentity === identity,
    );
const terminalsOf = (identity: string) =>
  stack.emulators.events
    .events()
    .filter(
      (event) =>
        TERMINAL_DETAIL_TYPES.includes(event['detail-type']) && event.detail.identity === identity,
    );

describe('onboarding events', () => {
  it('start a run through the rule, the queue and the starter', async () => {
    await onboard({ EmailIdentity: 't1.example.com', Tags: [{ Key: 'tenant', Value: 't1' }] });

    const terminal = await terminalEventOf(stack, 't1.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(runsOf('t1.example.com')).toHaveLength(1);
    const queue = stack.deployment.queues.find((spec) => spec.logicalId === 'OnboardingQueue');
    const attributes = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue?.url, AttributeNames: ['All'] }),
    );
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('start one run for a request sent three times, and one for an event delivered three times', async () => {
    for (let i = 0; i < 3; i += 1) await onboard({ EmailIdentity: 'thrice.example.com' });
    // EventBridge delivers at least once: the same event, with its id, three times in the queue.
    const event = {
      version: '0',
      id: 'b6a1d0e2-0000-4000-8000-000000000001',
      'detail-type': String(parameters().OnboardingDetailType),
      source: String(parameters().OnboardingEventSource),
      account: '000000000000',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: stack.region,
      resources: [],
      detail: { EmailIdentity: 'redelivered.example.com' },
    };
    const queue = stack.deployment.queues.find((spec) => spec.logicalId === 'OnboardingQueue');
    for (let i = 0; i < 3; i += 1) {
      await stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: JSON.stringify(event) }),
      );
    }

    await terminalEventOf(stack, 'thrice.example.com');
    await terminalEventOf(stack, 'redelivered.example.com');

    expect(runsOf('thrice.example.com')).toHaveLength(1);
    expect(runsOf('redelivered.example.com')).toHaveLength(1);
    expect(terminalsOf('thrice.example.com')).toHaveLength(1);
    expect(terminalsOf('redelivered.example.com')).toHaveLength(1);
  });

  it('refuse a private key in any shape: a VALIDATION_ERROR event, no run, the key nowhere', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs1', format: 'der' })
      .toString('base64');
    const change = String(parameters().OnboardingDkimChangeDetailType);
    const shapes: [string, Record<string, unknown>, string?][] = [
      [
        'key-a.example.com',
        { SigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key } },
      ],
      [
        'key-b.example.com',
        {
          SigningAttributesOrigin: 'EXTERNAL',
          DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: key },
        },
        change,
      ],
      [
        'key-c.example.com',
        { DkimSigningAttributes: { DomainSigningSelector: 's1', domainSigningPrivateKey: key } },
      ],
      ['key-d.example.com', { PrivateKey: key }],
    ];

    for (const [identity, detail, detailType] of shapes) {
      await onboard({ EmailIdentity: identity, ...detail }, detailType);
    }
    const refusals = await Promise.all(
      shapes.map(([identity]) => terminalEventOf(stack, identity)),
    );

    for (const [index, refusal] of refusals.entries()) {
      expect(refusal['detail-type']).toBe('Email Identity Verification Failed');
      expect(refusal.detail.reason, shapes[index]?.[0]).toMatchObject({
        code: 'VALIDATION_ERROR',
        retryable: false,
      });
      expect((refusal.detail.reason as { message: string }).message).toContain(
        'DomainSigningPrivateKeySecretArn',
      );
      expect(runsOf(shapes[index]?.[0] as string)).toHaveLength(0);
    }
    // The key reached the bus (it was put there), but no event the stack emitted, no execution.
    const emitted = stack.emulators.events
      .events()
      .filter((event) => event.source !== String(parameters().OnboardingEventSource));
    expect(JSON.stringify(emitted.map(envelopeOf))).not.toContain(key.slice(40, 120));
    expect(JSON.stringify(stack.stateMachine.list())).not.toContain(key.slice(40, 120));
  });
});
