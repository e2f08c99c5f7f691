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
  type TooManyRequestsException,
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
    stack = await startStack({
      ses: {
        firstCheckDelayMs: MINUTE,
        checkIntervalMs: 5 * MINUTE,
        // These tests are about identities, not SES's rate: many calls happen at one instant of
        // the hand-driven clock, which one request per second per operation would refuse.
        faults: { rateLimit: 0 },
      },
    });
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

  it('creates an Easy DKIM domain with three random base32 tokens, PENDING, 2048-bit', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    expect(created.IdentityType).toBe('DOMAIN');
    expect(created.VerifiedForSendingStatus).toBe(false);
    expect(created.DkimAttributes?.Tokens).toHaveLength(3);
    for (const token of created.DkimAttributes?.Tokens ?? [])
      expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(new Set(created.DkimAttributes?.Tokens).size).toBe(3);
    expect(created.DkimAttributes).toMatchObject({
      Status: 'PENDING',
      SigningEnabled: true,
      SigningAttributesOrigin: 'AWS_SES',
      NextSigningKeyLength: 'RSA_2048_BIT',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
      LastKeyGenerationTimestamp: stack.clock.now(),
      SigningHostedZone: 'dkim.amazonses.com',
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

  const changeKeyLength = (length: 'RSA_1024_BIT' | 'RSA_2048_BIT') =>
    ses.send(
      new PutEmailIdentityDkimSigningAttributesCommand({
        EmailIdentity: 'example.com',
        SigningAttributesOrigin: 'AWS_SES',
        SigningAttributes: { NextSigningKeyLength: length },
      }),
    );

  it('changes NextSigningKeyLength at once, and the key in use only when SES generates it', async () => {
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    stack.clock.advance(MINUTE);

    const changed = await changeKeyLength('RSA_1024_BIT');
    const pending = await get('example.com');
    stack.clock.advance(HOUR);
    const generated = await get('example.com');

    // Easy DKIM rotates behind the same CNAMEs: the tokens, and so the records, stay.
    expect(changed.DkimTokens).toEqual(created.DkimAttributes?.Tokens);
    expect(pending.DkimAttributes).toMatchObject({
      NextSigningKeyLength: 'RSA_1024_BIT',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
      LastKeyGenerationTimestamp: created.DkimAttributes?.LastKeyGenerationTimestamp,
    });
    expect(generated.DkimAttributes).toMatchObject({
      NextSigningKeyLength: 'RSA_1024_BIT',
      CurrentSigningKeyLength: 'RSA_1024_BIT',
      LastKeyGenerationTimestamp: new Date(Date.parse('2026-01-01T00:01:00Z') + HOUR),
    });
  });

  it('allows the first length change at once, then refuses the same length and a second change within a day', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));

    await expect(changeKeyLength('RSA_2048_BIT')).rejects.toThrow(/already RSA_2048_BIT/);
    await changeKeyLength('RSA_1024_BIT');
    stack.clock.advance(24 * HOUR - 1);
    await expect(changeKeyLength('RSA_2048_BIT')).rejects.toBeInstanceOf(BadRequestException);
    stack.clock.advance(1);
    await changeKeyLength('RSA_2048_BIT');

    expect((await get('example.com')).DkimAttributes?.NextSigningKeyLength).toBe('RSA_2048_BIT');
  });

  it('reports no Easy DKIM key lengths or key generation for a BYODKIM domain', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        DkimSigningAttributes: {
          DomainSigningSelector: 's1',
          DomainSigningPrivateKey: privateKey
            .export({ type: 'pkcs1', format: 'der' })
            .toString('base64'),
        },
      }),
    );

    const dkim = (await get('example.com')).DkimAttributes;

    expect(dkim).toMatchObject({ SigningAttributesOrigin: 'EXTERNAL', Tokens: ['s1'] });
    expect(dkim).not.toHaveProperty('CurrentSigningKeyLength');
    expect(dkim).not.toHaveProperty('NextSigningKeyLength');
    expect(dkim).not.toHaveProperty('LastKeyGenerationTimestamp');
    expect(dkim).not.toHaveProperty('SigningHostedZone');
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

  it('throttles each operation beyond one request per second by default, on the emulator clock', async () => {
    stack = await startStack();
    const ses = new SESv2Client(clientConfig(stack.url));
    const list = () =>
      ses.send(new ListEmailIdentitiesCommand({})).then(
        () => 'ok',
        (error: TooManyRequestsException) => `${error.name} ${error.$metadata.httpStatusCode}`,
      );

    const burst = [await list(), await list()];
    // Another operation has its own budget.
    const other = await ses
      .send(new GetEmailIdentityCommand({ EmailIdentity: 'x.example.com' }))
      .catch((error: Error) => error.name);
    stack.clock.advance(1000);
    const later = await list();

    expect(burst).toEqual(['ok', 'TooManyRequestsException 429']);
    expect(other).toBe('NotFoundException');
    expect(later).toBe('ok');
    expect(stack.metrics.snapshot()['sesv2:ListEmailIdentities']).toEqual({
      ok: 2,
      throttled: 1,
      failed: 0,
    });
    ses.destroy();
  });

  it('lets a fault strike after the operation took effect: the reply is lost, the identity exists', async () => {
    stack = await startStack({
      ses: {
        faults: {
          rateLimit: 0,
          faultRate: 1,
          faultAfterShare: 1,
          operations: ['CreateEmailIdentity'],
        },
      },
    });
    const ses = new SESv2Client(clientConfig(stack.url));

    const created = await ses
      .send(new CreateEmailIdentityCommand({ EmailIdentity: 'lost.example.com' }))
      .catch((error: { name: string; $metadata: { httpStatusCode: number } }) => error);
    const found = await ses.send(
      new GetEmailIdentityCommand({ EmailIdentity: 'lost.example.com' }),
    );

    expect(created).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    expect(found.IdentityType).toBe('DOMAIN');
    ses.destroy();
  });

  it("answers Easy DKIM with its region's DKIM zone, and checks the CNAMEs against it", async () => {
    stack = await startStack({
      region: 'af-south-1',
      ses: { firstCheckDelayMs: 0, checkIntervalMs: 0, faults: { rateLimit: 0 } },
    });
    // Signed for af-south-1, as a client there is: the sandbox's SES answers per Region.
    const ses = new SESv2Client({ ...clientConfig(stack.url), region: 'af-south-1' });
    const route53 = new Route53Client(clientConfig(stack.url));
    const zoneId = (stack.zones.get('example.com') as { id: string }).id;
    const created = await ses.send(
      new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }),
    );
    const tokens = created.DkimAttributes?.Tokens ?? [];
    const publish = (zone: string) =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: tokens.map((token) => ({
              Action: 'UPSERT' as const,
              ResourceRecordSet: {
                Name: `${token}._domainkey.example.com`,
                Type: 'CNAME' as const,
                TTL: 300,
                ResourceRecords: [{ Value: `${token}.${zone}` }],
              },
            })),
          },
        }),
      );

    await publish('dkim.amazonses.com');
    const elsewhere = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await publish('dkim.af-south-1.amazonses.com');
    const regional = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }));

    expect(created.DkimAttributes?.SigningHostedZone).toBe('dkim.af-south-1.amazonses.com');
    expect(elsewhere.VerificationInfo?.ErrorType).toBe('INVALID_VALUE');
    expect(regional.DkimAttributes?.Status).toBe('SUCCESS');
    ses.destroy();
    route53.destroy();
  });

  it('answers a 5xx InternalFailure at fault rate 1', async () => {
    stack = await startStack({ ses: { faults: { faultRate: 1, rateLimit: 0 } } });
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
      const local = await startStack({
        ses: { faults: { throttleRate: 0.5, seed: 42, rateLimit: 0 } },
      });
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
