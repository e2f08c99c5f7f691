import { generateKeyPairSync } from 'node:crypto';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  AlreadyExistsException,
  BadRequestException,
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  NotFoundException,
  PutEmailIdentityDkimAttributesCommand,
  PutEmailIdentityDkimSigningAttributesCommand,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientConfig, HOUR, MINUTE, type Stack, startStack } from './stack.js';

function rsaKey(bits = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** `"v=DKIM1; k=rsa; p=..."` split into strings of at most 255 characters, as Route 53 needs. */
function dkimTxtValue(publicKey: string): string {
  const text = `v=DKIM1; k=rsa; p=${publicKey}`;
  const parts = text.match(/.{1,255}/g) ?? [];
  return parts.map((part) => `"${part}"`).join(' ');
}

describe('emulated SES v2 through the SDK', () => {
  let stack: Stack;
  let ses: SESv2Client;
  let route53: Route53Client;
  let zoneId: string;

  beforeEach(async () => {
    stack = await startStack({ ses: { firstCheckDelayMs: MINUTE, checkIntervalMs: 5 * MINUTE } });
    ses = new SESv2Client(clientConfig(stack.url));
    route53 = new Route53Client(clientConfig(stack.url));
    zoneId = (stack.zones.get('example.com') as { id: string }).id;
  });
  afterEach(async () => {
    ses.destroy();
    route53.destroy();
    await stack.stop();
  });

  const upsert = (name: string, type: 'CNAME' | 'TXT', value: string) =>
    route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: name,
                Type: type,
                TTL: 300,
                ResourceRecords: [{ Value: value }],
              },
            },
          ],
        },
      }),
    );
  const publishEasyDkim = (domain: string, tokens: string[]) =>
    Promise.all(
      tokens.map((token) =>
        upsert(`${token}._domainkey.${domain}`, 'CNAME', `${token}.dkim.amazonses.com`),
      ),
    );
  const get = (identity: string) =>
    ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));

  it('creates an Easy DKIM domain with three random 32-character tokens, PENDING, 2048-bit', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    expect(created.IdentityType).toBe('DOMAIN');
    expect(created.VerifiedForSendingStatus).toBe(false);
    expect(created.DkimAttributes?.Tokens).toHaveLength(3);
    for (const token of created.DkimAttributes?.Tokens ?? [])
      expect(token).toMatch(/^[a-z0-9]{32}$/);
    expect(new Set(created.DkimAttributes?.Tokens).size).toBe(3);
    expect(created.DkimAttributes).toMatchObject({
      Status: 'PENDING',
      SigningEnabled: true,
      SigningAttributesOrigin: 'AWS_SES',
      NextSigningKeyLength: 'RSA_2048_BIT',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
      LastKeyGenerationTimestamp: stack.clock.now(),
    });
  });

  it('raises AlreadyExistsException for a second create of the same identity', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await expect(
      ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'Example.COM' })),
    ).rejects.toBeInstanceOf(AlreadyExistsException);
  });

  it('raises NotFoundException with status 404 for an unknown identity', async () => {
    const error = await get('nobody.example.org').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
  });

  it.each([
    ['an invalid domain', { EmailIdentity: 'not a domain' }],
    [
      'BYODKIM for an address',
      {
        EmailIdentity: 'a@example.com',
        DkimSigningAttributes: { DomainSigningSelector: 's1', DomainSigningPrivateKey: 'AAAA' },
      },
    ],
    [
      'a private key that is not RSA',
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: 'bm90IGEga2V5',
        },
      },
    ],
    [
      'a selector without a key',
      { EmailIdentity: 'example.com', DkimSigningAttributes: { DomainSigningSelector: 's1' } },
    ],
    [
      'an invalid selector',
      {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { DomainSigningSelector: '-bad-', DomainSigningPrivateKey: 'AAAA' },
      },
    ],
    [
      '51 tags',
      {
        EmailIdentity: 'example.com',
        Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      },
    ],
    ['an aws: tag key', { EmailIdentity: 'example.com', Tags: [{ Key: 'aws:x', Value: 'v' }] }],
  ])('raises BadRequestException for %s', async (_case, input) => {
    await expect(ses.send(new CreateEmailIdentityCommand(input))).rejects.toBeInstanceOf(
      BadRequestException,
    );
  });

  it('lists identities page by page with NextToken, each once', async () => {
    const names = [
      'a.example.com',
      'b.example.com',
      'c.example.com',
      'd.example.com',
      'e@example.com',
    ];
    for (const name of names)
      await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: name }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ses.send(
        new ListEmailIdentitiesCommand({ PageSize: 2, NextToken: nextToken }),
      );
      seen.push(...(page.EmailIdentities ?? []).map((identity) => identity.IdentityName as string));
      nextToken = page.NextToken;
      pages += 1;
    } while (nextToken);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
  });

  it('deletes an identity, after which it is not found', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await expect(get('example.com')).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'example.com' })),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('turns SUCCESS only at its first scheduled check after the CNAMEs are in DNS', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    await publishEasyDkim('example.com', created.DkimAttributes?.Tokens ?? []);
    // The records exist, but SES has not looked yet.
    expect((await get('example.com')).DkimAttributes?.Status).toBe('PENDING');
    stack.clock.advance(MINUTE);
    const checkedAt = stack.clock.now();
    const verified = await get('example.com');
    expect(verified.DkimAttributes?.Status).toBe('SUCCESS');
    expect(verified.VerificationStatus).toBe('SUCCESS');
    expect(verified.VerifiedForSendingStatus).toBe(true);
    expect(verified.VerificationInfo).toMatchObject({
      LastCheckedTimestamp: checkedAt,
      LastSuccessTimestamp: checkedAt,
    });
    expect(verified.VerificationInfo?.ErrorType).toBeUndefined();
  });

  it('stays PENDING with HOST_NOT_FOUND, then FAILED after 72 hours without the records', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    stack.clock.advance(MINUTE);
    const pending = await get('example.com');
    expect(pending.DkimAttributes?.Status).toBe('PENDING');
    expect(pending.VerificationInfo?.ErrorType).toBe('HOST_NOT_FOUND');
    stack.clock.advance(71 * HOUR);
    expect((await get('example.com')).DkimAttributes?.Status).toBe('PENDING');
    stack.clock.advance(HOUR);
    const failed = await get('example.com');
    expect(failed.DkimAttributes?.Status).toBe('FAILED');
    expect(failed.VerificationStatus).toBe('FAILED');
    expect(failed.VerifiedForSendingStatus).toBe(false);
  });

  it('reports INVALID_VALUE when a CNAME points elsewhere', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    const [first, ...others] = created.DkimAttributes?.Tokens ?? [];
    await publishEasyDkim('example.com', others);
    await upsert(`${first}._domainkey.example.com`, 'CNAME', 'elsewhere.example.net');
    stack.clock.advance(MINUTE);
    const checked = await get('example.com');
    expect(checked.DkimAttributes?.Status).toBe('PENDING');
    expect(checked.VerificationInfo?.ErrorType).toBe('INVALID_VALUE');
  });

  it('is TEMPORARY_FAILURE while DNS answers SERVFAIL, and SUCCESS once it answers again', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    await publishEasyDkim('example.com', created.DkimAttributes?.Tokens ?? []);
    stack.dnsServer?.failName('example.com');
    stack.clock.advance(MINUTE);
    const failing = await get('example.com');
    expect(failing.DkimAttributes?.Status).toBe('TEMPORARY_FAILURE');
    expect(failing.VerificationInfo?.ErrorType).toBe('DNS_SERVER_ERROR');
    stack.dnsServer?.clearFaults();
    stack.clock.advance(5 * MINUTE);
    expect((await get('example.com')).DkimAttributes?.Status).toBe('SUCCESS');
  });

  it('verifies BYODKIM only against the public key of the private key it was given', async () => {
    const key = rsaKey();
    const other = rsaKey();
    const created = await ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 'sel1',
          DomainSigningPrivateKey: key.privateKey,
        },
      }),
    );
    expect(created.DkimAttributes).toMatchObject({
      Tokens: ['sel1'],
      SigningAttributesOrigin: 'EXTERNAL',
      Status: 'PENDING',
    });
    await upsert('sel1._domainkey.example.com', 'TXT', dkimTxtValue(other.publicKey));
    stack.clock.advance(MINUTE);
    const wrong = await get('example.com');
    expect(wrong.DkimAttributes?.Status).toBe('PENDING');
    expect(wrong.VerificationInfo?.ErrorType).toBe('INVALID_VALUE');
    await upsert('sel1._domainkey.example.com', 'TXT', dkimTxtValue(key.publicKey));
    stack.clock.advance(5 * MINUTE);
    expect((await get('example.com')).DkimAttributes?.Status).toBe('SUCCESS');
  });

  it('fails BYODKIM after 72 hours when the TXT keeps the wrong key', async () => {
    const key = rsaKey(1024);
    await ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 'sel1',
          DomainSigningPrivateKey: key.privateKey,
        },
      }),
    );
    await upsert('sel1._domainkey.example.com', 'TXT', dkimTxtValue(rsaKey(1024).publicKey));
    stack.clock.advance(72 * HOUR + MINUTE);
    const failed = await get('example.com');
    expect(failed.DkimAttributes?.Status).toBe('FAILED');
    expect(failed.VerificationInfo?.ErrorType).toBe('INVALID_VALUE');
  });

  it('moves from BYODKIM to Easy DKIM with new tokens and a fresh PENDING', async () => {
    await ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 'sel1',
          DomainSigningPrivateKey: rsaKey(1024).privateKey,
        },
      }),
    );
    stack.clock.advance(73 * HOUR);
    expect((await get('example.com')).DkimAttributes?.Status).toBe('FAILED');
    const changed = await ses.send(
      new PutEmailIdentityDkimSigningAttributesCommand({
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'AWS_SES',
      }),
    );
    expect(changed.DkimStatus).toBe('PENDING');
    expect(changed.DkimTokens).toHaveLength(3);
    expect(changed.DkimTokens).not.toContain('sel1');
    const after = await get('example.com');
    expect(after.DkimAttributes).toMatchObject({
      SigningAttributesOrigin: 'AWS_SES',
      Tokens: changed.DkimTokens,
    });
  });

  it('refuses a key length change within 24 hours of the last key, and records it after', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    const change = () =>
      ses.send(
        new PutEmailIdentityDkimSigningAttributesCommand({
          EmailIdentity: 'example.com',
          SigningAttributesOrigin: 'AWS_SES',
          SigningAttributes: { NextSigningKeyLength: 'RSA_1024_BIT' },
        }),
      );
    await expect(change()).rejects.toBeInstanceOf(BadRequestException);
    stack.clock.advance(24 * HOUR);
    await change();
    const after = await get('example.com');
    expect(after.DkimAttributes?.NextSigningKeyLength).toBe('RSA_1024_BIT');
    expect(after.DkimAttributes?.LastKeyGenerationTimestamp).toEqual(stack.clock.now());
  });

  it('switches DKIM signing off and on with PutEmailIdentityDkimAttributes', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(
      new PutEmailIdentityDkimAttributesCommand({
        EmailIdentity: 'example.com',
        SigningEnabled: false,
      }),
    );
    expect((await get('example.com')).DkimAttributes?.SigningEnabled).toBe(false);
    await expect(
      ses.send(
        new PutEmailIdentityDkimAttributesCommand({
          EmailIdentity: 'missing.example.com',
          SigningEnabled: true,
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('sends an address a verification message whose link verifies it', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'ops@example.com' }));
    const [message] = stack.ses.mailbox('ops@example.com');
    expect(message?.confirmationUrl).toBe(
      `http://127.0.0.1:3000/sandbox/confirm/${message?.token}`,
    );
    const before = await get('ops@example.com');
    expect(before).toMatchObject({
      IdentityType: 'EMAIL_ADDRESS',
      VerificationStatus: 'PENDING',
      VerifiedForSendingStatus: false,
    });
    expect(stack.ses.confirm(message?.token as string)).toEqual({
      status: 'confirmed',
      identity: 'ops@example.com',
    });
    const after = await get('ops@example.com');
    expect(after).toMatchObject({ VerificationStatus: 'SUCCESS', VerifiedForSendingStatus: true });
  });

  it('expires an address confirmation link after 24 hours', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'ops@example.com' }));
    const [message] = stack.ses.mailbox();
    stack.clock.advance(24 * HOUR + 1);
    expect(stack.ses.confirm(message?.token as string).status).toBe('expired');
    expect((await get('ops@example.com')).VerificationStatus).toBe('FAILED');
    expect(stack.ses.confirm('no-such-token')).toEqual({ status: 'unknown' });
  });
});

describe('emulated SES stress and faults', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('answers TooManyRequestsException (429) beyond the per-operation rate limit', async () => {
    stack = await startStack({ ses: { faults: { rateLimit: 2, wallClock: () => 0 } } });
    const ses = new SESv2Client(clientConfig(stack.url));
    await ses.send(new ListEmailIdentitiesCommand({}));
    await ses.send(new ListEmailIdentitiesCommand({}));
    const error = await ses.send(new ListEmailIdentitiesCommand({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
    // Another operation has its own budget.
    await expect(
      ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'x.example.com' })),
    ).rejects.toBeInstanceOf(NotFoundException);
    ses.destroy();
  });

  it('answers a 5xx InternalFailure at fault rate 1', async () => {
    stack = await startStack({ ses: { faults: { faultRate: 1 } } });
    const failing = new SESv2Client(clientConfig(stack.url));
    const error = (await failing
      .send(new ListEmailIdentitiesCommand({}))
      .catch((e: unknown) => e)) as {
      name: string;
      $metadata: { httpStatusCode: number };
    };
    expect(error.name).toBe('InternalFailure');
    expect(error.$metadata.httpStatusCode).toBe(500);
    failing.destroy();
  });

  it('fails the same requests for the same seed', async () => {
    const outcomes = async () => {
      const local = await startStack({ ses: { faults: { throttleRate: 0.5, seed: 42 } } });
      const ses = new SESv2Client(clientConfig(local.url));
      const results: string[] = [];
      for (let i = 0; i < 20; i++) {
        results.push(
          await ses.send(new ListEmailIdentitiesCommand({})).then(
            () => 'ok',
            (e: Error) => e.name,
          ),
        );
      }
      ses.destroy();
      await local.stop();
      return results;
    };
    const first = await outcomes();
    expect(first).toContain('TooManyRequestsException');
    expect(first).toContain('ok');
    expect(await outcomes()).toEqual(first);
  });
});
