import {
  AlreadyExistsException,
  BadRequestException,
  CreateEmailIdentityCommand,
  GetEmailIdentityCommand,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useClock } from '#shared/runtime/clock.js';
import { isRetryableError, RETRYABLE_ERROR_NAMES } from '#shared/workflow/errors.js';
import { createIdentityStep } from '#steps/create-identity/handler.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const PARENT_TOKENS = [
  'tokenaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'tokenbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  'tokencccccccccccccccccccccccccccc',
];
const meta = { $metadata: { httpStatusCode: 400 } };
const replicaRequest = {
  EmailIdentity: 'example.com',
  DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
};
/** A replica as SES reports it: the parent's origin Region and tokens. */
const replicaAttributes = (Status: 'PENDING' | 'SUCCESS' | 'FAILED') => ({
  SigningAttributesOrigin: 'AWS_SES_EU_WEST_1' as const,
  Tokens: PARENT_TOKENS,
  Status,
  NextSigningKeyLength: 'RSA_2048_BIT' as const,
  CurrentSigningKeyLength: 'RSA_2048_BIT' as const,
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the step to fail, and it succeeded');
}

describe('CreateIdentity step with DomainSigningAttributesOrigin (a DEED replica here)', () => {
  const ses = mockClient(SESv2Client);

  beforeEach(() => {
    ses.reset();
    vi.stubEnv('AWS_REGION', 'us-east-1');
    useClock({ now: () => NOW });
  });
  afterEach(() => {
    useClock();
    vi.unstubAllEnvs();
  });

  it('creates the identity with the origin SES documents, and no key length of its own', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .resolves({ IdentityType: 'DOMAIN', DkimAttributes: replicaAttributes('PENDING') });

    const result = await createIdentityStep(replicaRequest);

    expect(ses).toHaveReceivedCommandExactlyOnceWith(CreateEmailIdentityCommand, {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1' },
    });
    const input = ses.commandCalls(CreateEmailIdentityCommand)[0]?.args[0].input;
    expect(input?.DkimSigningAttributes).toEqual({
      DomainSigningAttributesOrigin: 'AWS_SES_EU_WEST_1',
    });
    // No tokens of its own to publish: the parent's CNAMEs serve it.
    expect(result.dkim).toEqual({
      origin: 'AWS_SES',
      tokens: [],
      selector: null,
      status: 'PENDING',
      current_signing_key_length: 'RSA_2048_BIT',
      next_signing_key_length: 'RSA_2048_BIT',
      public_key: null,
      parent_region: 'eu-west-1',
    });
    expect(result.adopted).toBe(false);
  });

  it('fails with ReplicaParentNotReadyError, retryable, when the parent in eu-west-1 is not verified', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new BadRequestException({ message: 'Parent identity not verified', ...meta }));
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: {
        SigningAttributesOrigin: 'AWS_SES',
        Tokens: PARENT_TOKENS,
        Status: 'PENDING',
      },
    });

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('ReplicaParentNotReadyError');
    expect(error.message).toContain(
      'The parent identity example.com in eu-west-1 (AWS_SES_EU_WEST_1) is not verified yet (DKIM status PENDING)',
    );
    expect(isRetryableError(error.name)).toBe(true);
    // Not the state machine's to retry: the parent's verification takes far longer than a back-off.
    expect(RETRYABLE_ERROR_NAMES).not.toContain('ReplicaParentNotReadyError');
  });

  it('fails with ReplicaParentNotReadyError when eu-west-1 has no parent identity', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'No parent identity', ...meta }));
    ses.on(GetEmailIdentityCommand).rejects(new NotFoundException({ message: 'nope', ...meta }));

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('ReplicaParentNotReadyError');
    expect(error.message).toContain('The parent identity example.com does not exist in eu-west-1');
  });

  it('fails with SesBadRequestError, not retryable, when the parent uses BYODKIM', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new BadRequestException({ message: 'Parent must be Easy DKIM', ...meta }));
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'SUCCESS' },
    });

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('SesBadRequestError');
    expect(error.message).toContain('is not an Easy DKIM identity');
    expect(isRetryableError(error.name)).toBe(false);
  });

  it("keeps SES's refusal when the parent's Region cannot be read from here", async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new BadRequestException({ message: 'Parent identity not verified', ...meta }));
    ses
      .on(GetEmailIdentityCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('SesBadRequestError');
    expect(error.message).toContain('Parent identity not verified');
  });

  it('leaves a throttle as the retried ThrottlingError, without reading the parent', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new TooManyRequestsException({ message: 'slow down', ...meta }));

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('ThrottlingError');
    expect(ses).not.toHaveReceivedCommand(GetEmailIdentityCommand);
  });

  it('adopts a replica of the same parent that SES already has', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new AlreadyExistsException({ message: 'exists', ...meta }));
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: true,
      DkimAttributes: replicaAttributes('SUCCESS'),
    });

    const result = await createIdentityStep(replicaRequest);

    expect(result.adopted).toBe(true);
    expect(result.dkim).toMatchObject({
      status: 'SUCCESS',
      tokens: [],
      parent_region: 'eu-west-1',
    });
  });

  it('refuses to adopt an Easy DKIM identity of this Region as a replica, with CONFLICT', async () => {
    ses
      .on(CreateEmailIdentityCommand)
      .rejects(new AlreadyExistsException({ message: 'exists', ...meta }));
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      DkimAttributes: {
        SigningAttributesOrigin: 'AWS_SES',
        Tokens: PARENT_TOKENS,
        Status: 'SUCCESS',
      },
    });

    const error = await rejection(createIdentityStep(replicaRequest));

    expect(error.name).toBe('ConflictError');
    expect(error.message).toContain(
      'the identity uses Easy DKIM, the request asks for a DEED replica of the parent in eu-west-1 (AWS_SES_EU_WEST_1)',
    );
  });
});
