import {
  GetEmailIdentityCommand,
  InternalServiceErrorException,
  NotFoundException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { getEmailIdentity } from '#shared/ses/email-identity.js';
import { ServiceUnavailableError, ThrottlingError } from '#shared/workflow/errors.js';

describe('getEmailIdentity', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => ses.reset());

  it('asks SES for the identity and answers in our vocabulary', async () => {
    ses.on(GetEmailIdentityCommand).resolves({
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: true,
      DkimAttributes: { SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'], Status: 'SUCCESS' },
    });

    const identity = await getEmailIdentity('example.com');

    expect(ses).toHaveReceivedCommandWith(GetEmailIdentityCommand, {
      EmailIdentity: 'example.com',
    });
    expect(identity).toMatchObject({
      identity: 'example.com',
      identity_type: 'DOMAIN',
      verified_for_sending: true,
      dkim: { origin: 'EXTERNAL', selector: 's1', tokens: [], status: 'SUCCESS' },
    });
  });

  it('returns null when SES does not know the identity', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(new NotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } }));

    await expect(getEmailIdentity('example.com')).resolves.toBeNull();
  });

  it.each([
    [
      'throttling as ThrottlingError',
      new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }),
      ThrottlingError,
    ],
    [
      'a 5xx as ServiceUnavailableError',
      new InternalServiceErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
      ServiceUnavailableError,
    ],
  ])(
    'throws %s, naming the call, with the original as cause',
    async (_label, error, errorClass) => {
      ses.on(GetEmailIdentityCommand).rejects(error);

      const failure = await getEmailIdentity('example.com').catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(errorClass);
      expect((failure as Error).message).toContain('GetEmailIdentity example.com');
      expect((failure as Error).cause).toBe(error);
    },
  );
});
