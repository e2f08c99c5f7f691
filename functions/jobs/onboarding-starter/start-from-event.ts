import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEvent } from 'aws-lambda';
import { eventBridgeClient } from '#shared/aws/clients/eventbridge.js';
import {
  type DkimChangeRequest,
  type IdentityRequest,
  identityTypeOf,
  normaliseEmailIdentity,
  parseDkimChangeRequest,
  parseIdentityRequest,
} from '#shared/request/index.js';
import {
  type RunHandle,
  type RunStoreConfig,
  runFingerprint,
  startRun,
} from '#shared/runs/start-run.js';
import { logger } from '#shared/runtime/observability.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import { type FailureDetail, failureDetail } from '#shared/workflow/failure.js';
import { findPrivateKey } from './private-key-scan.js';

export interface StarterConfig extends RunStoreConfig {
  /** The detail-type of a DKIM change event (OnboardingDkimChangeDetailType); others create. */
  dkimChangeDetailType: string;
  eventBusName: string;
  eventSource: string;
}

/** What became of one onboarding event. */
export type StartOutcome =
  | { started: RunHandle }
  /** No run: the failure event says why (a key in the event, an invalid request, a conflict). */
  | { refused: FailureDetail };

type OnboardingEvent = EventBridgeEvent<string, unknown>;

/**
 * Starts the run an onboarding event asks for, through the same start logic as the API: the
 * event's id is its idempotency key, so EventBridge's at-least-once delivery starts one run per
 * event, however often it arrives. An event that carries a private key, an invalid request or
 * a request that conflicts with a run already going starts nothing: it gets a failure event
 * saying why, as a run would have sent. Throttling and other transient errors are thrown, for
 * the queue to deliver the event again.
 */
export async function startFromEvent(
  event: OnboardingEvent,
  config: StarterConfig,
): Promise<StartOutcome> {
  const change = event['detail-type'] === config.dkimChangeDetailType;
  const keyFound = findPrivateKey(event.detail);
  if (keyFound !== undefined) {
    return refuse(event, config, {
      code: 'VALIDATION_ERROR',
      message: `The event carries a private key (at ${keyFound.path}); an onboarding event's detail would be kept in the run's history, so no run was started with it. Put the base64 key in a Secrets Manager secret under the stack's "dkim-private-keys/" prefix and send DomainSigningPrivateKeySecretArn instead.`,
      details: [
        {
          field: keyFound.path,
          message: 'is a private key: send DomainSigningPrivateKeySecretArn with a secret instead',
        },
      ],
    });
  }

  let request: IdentityRequest | DkimChangeRequest;
  try {
    request = change
      ? parseDkimChangeRequest(
          { ...asObject(event.detail), Operation: 'ChangeDkimSigning' },
          { keyDelivery: 'secret' },
        )
      : parseIdentityRequest(event.detail, { keyDelivery: 'secret' });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return refuse(event, config, {
      code: 'VALIDATION_ERROR',
      message: 'The onboarding event does not hold a valid request; no run was started.',
      details: error.details,
    });
  }

  const identity = request.EmailIdentity;
  try {
    const started = await startRun(
      {
        identity,
        identityType: identityTypeOf(identity),
        operation: change ? 'ChangeDkimSigning' : 'CreateIdentity',
        fingerprint: change
          ? runFingerprint(request as DkimChangeRequest, 'SigningAttributes')
          : runFingerprint(request as IdentityRequest, 'DkimSigningAttributes'),
        idempotencyKey: `event:${event.id}`,
        inputFor: () => request,
        ...(!change && { creationRequest: request as IdentityRequest }),
      },
      config,
    );
    logger.info('Onboarding event', {
      eventId: event.id,
      identity,
      run: started.id,
      repeated: started.repeated,
    });
    return { started };
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return refuse(event, config, { code: 'CONFLICT', message: error.message, details: [] });
  }
}

function asObject(detail: unknown): Record<string, unknown> {
  return detail !== null && typeof detail === 'object' && !Array.isArray(detail)
    ? (detail as Record<string, unknown>)
    : {};
}

/** The failure event for an event that started no run; the identity only when it is one. */
async function refuse(
  event: OnboardingEvent,
  config: StarterConfig,
  reason: {
    code: 'VALIDATION_ERROR' | 'CONFLICT';
    message: string;
    details: FailureDetail['details'];
  },
): Promise<StartOutcome> {
  const raw = asObject(event.detail).EmailIdentity;
  const named = typeof raw === 'string' ? normaliseEmailIdentity(raw) : undefined;
  const identity = named !== undefined && named.problems.length === 0 ? named.value : null;
  const detail = failureDetail({
    identity,
    identity_type: identity === null ? null : identityTypeOf(identity),
    reason: { code: reason.code, message: reason.message, retryable: false },
    details: reason.details,
  });
  const output = await eventBridgeClient.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: config.eventBusName,
          Source: config.eventSource,
          DetailType: 'Email Identity Verification Failed',
          Detail: JSON.stringify(detail),
          Resources: [],
        },
      ],
    }),
  );
  if ((output.FailedEntryCount ?? 0) > 0) {
    const entry = output.Entries?.[0];
    throw new Error(
      `EventBridge refused the failure event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`,
    );
  }
  logger.warn('Onboarding event started no run', {
    eventId: event.id,
    code: reason.code,
    identity,
  });
  return { refused: detail };
}
