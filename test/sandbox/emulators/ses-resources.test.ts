import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  AlreadyExistsException,
  BadRequestException,
  CreateConfigurationSetCommand,
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteConfigurationSetCommand,
  DeleteEmailIdentityCommand,
  GetConfigurationSetCommand,
  GetEmailIdentityCommand,
  ListConfigurationSetsCommand,
  ListResourceTenantsCommand,
  ListTenantResourcesCommand,
  NotFoundException,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientConfig, HOUR, MINUTE, type Stack, startStack } from './stack.js';

// Configuration sets, tenants and custom MAIL FROM domains in the emulated SES, through the SDK.
// The rate limit is off: these tests make many calls at one instant of the hand-driven clock.
let stack: Stack;
let ses: SESv2Client;
let route53: Route53Client;

beforeEach(async () => {
  stack = await startStack({
    ses: { firstCheckDelayMs: MINUTE, checkIntervalMs: 5 * MINUTE, faults: { rateLimit: 0 } },
  });
  ses = new SESv2Client(clientConfig(stack.url));
  route53 = new Route53Client(clientConfig(stack.url));
});
afterEach(async () => {
  ses.destroy();
  route53.destroy();
  await stack.stop();
});

const identityArn = (name: string) => `arn:aws:ses:us-east-1:000000000000:identity/${name}`;

describe('configuration sets', () => {
  it('creates, reads, lists and deletes one, and refuses a second of the same name', async () => {
    await ses.send(
      new CreateConfigurationSetCommand({
        ConfigurationSetName: 'transactional',
        SendingOptions: { SendingEnabled: true },
        Tags: [{ Key: 'team', Value: 'mail' }],
      }),
    );
    await expect(
      ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'transactional' })),
    ).rejects.toBeInstanceOf(AlreadyExistsException);

    const got = await ses.send(
      new GetConfigurationSetCommand({ ConfigurationSetName: 'transactional' }),
    );
    const listed = await ses.send(new ListConfigurationSetsCommand({}));
    await ses.send(new DeleteConfigurationSetCommand({ ConfigurationSetName: 'transactional' }));

    expect(got).toMatchObject({
      ConfigurationSetName: 'transactional',
      SendingOptions: { SendingEnabled: true },
      Tags: [{ Key: 'team', Value: 'mail' }],
    });
    expect(listed.ConfigurationSets).toEqual(['transactional']);
    await expect(
      ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'transactional' })),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refuses an identity whose ConfigurationSetName does not exist, and takes one that does', async () => {
    const unknown = ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        ConfigurationSetName: 'missing',
      }),
    );
    await expect(unknown).rejects.toBeInstanceOf(NotFoundException);
    await expect(unknown).rejects.toThrow('missing');

    await ses.send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'marketing' }));
    await ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: 'example.com',
        ConfigurationSetName: 'marketing',
      }),
    );

    const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    expect(identity.ConfigurationSetName).toBe('marketing');
  });
});

describe('tenants', () => {
  it('associates an identity with a tenant and lists it from both sides', async () => {
    const tenant = await ses.send(new CreateTenantCommand({ TenantName: 'tenant-42' }));
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 't42.example.com' }));
    await ses.send(
      new CreateTenantResourceAssociationCommand({
        TenantName: 'tenant-42',
        ResourceArn: identityArn('t42.example.com'),
      }),
    );

    const resources = await ses.send(
      new ListTenantResourcesCommand({
        TenantName: 'tenant-42',
        Filter: { RESOURCE_TYPE: 'EMAIL_IDENTITY' },
      }),
    );
    const tenants = await ses.send(
      new ListResourceTenantsCommand({ ResourceArn: identityArn('t42.example.com') }),
    );

    expect(tenant).toMatchObject({ TenantName: 'tenant-42', SendingStatus: 'ENABLED' });
    expect(tenant.TenantArn).toMatch(/^arn:aws:ses:us-east-1:000000000000:tenant\/tenant-42\//);
    expect(resources.TenantResources).toEqual([
      { ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn('t42.example.com') },
    ]);
    expect(tenants.ResourceTenants?.map((t) => t.TenantName)).toEqual(['tenant-42']);
  });

  it('refuses an unknown tenant, an unknown resource and a second association', async () => {
    await ses.send(new CreateTenantCommand({ TenantName: 'tenant-1' }));
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'one.example.com' }));
    const associate = (tenantName: string, identity: string) =>
      ses.send(
        new CreateTenantResourceAssociationCommand({
          TenantName: tenantName,
          ResourceArn: identityArn(identity),
        }),
      );

    await expect(associate('nobody', 'one.example.com')).rejects.toBeInstanceOf(NotFoundException);
    await expect(associate('tenant-1', 'two.example.com')).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await associate('tenant-1', 'one.example.com');
    await expect(associate('tenant-1', 'one.example.com')).rejects.toBeInstanceOf(
      AlreadyExistsException,
    );
    await expect(
      ses.send(new CreateTenantCommand({ TenantName: 'tenant-1' })),
    ).rejects.toBeInstanceOf(AlreadyExistsException);
  });

  it('drops a deleted identity from its tenants', async () => {
    await ses.send(new CreateTenantCommand({ TenantName: 'tenant-1' }));
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'gone.example.com' }));
    await ses.send(
      new CreateTenantResourceAssociationCommand({
        TenantName: 'tenant-1',
        ResourceArn: identityArn('gone.example.com'),
      }),
    );

    await ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: 'gone.example.com' }));

    const resources = await ses.send(new ListTenantResourcesCommand({ TenantName: 'tenant-1' }));
    expect(resources.TenantResources).toEqual([]);
  });
});

describe('custom MAIL FROM domains', () => {
  const zoneId = () => (stack.zones.get('example.com') as { id: string }).id;
  const publishMx = (name: string, value: string) =>
    route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId(),
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: name,
                Type: 'MX',
                TTL: 300,
                ResourceRecords: [{ Value: value }],
              },
            },
          ],
        },
      }),
    );
  const mailFromOf = async (identity: string) =>
    (await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }))).MailFromAttributes;

  it('is PENDING until SES finds the MX record to its feedback endpoint, then SUCCESS', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(
      new PutEmailIdentityMailFromAttributesCommand({
        EmailIdentity: 'example.com',
        MailFromDomain: 'bounce.example.com',
      }),
    );

    const pending = await mailFromOf('example.com');
    stack.clock.advance(MINUTE);
    const missing = await mailFromOf('example.com');
    await publishMx('bounce.example.com', '10 feedback-smtp.us-east-1.amazonses.com');
    stack.clock.advance(5 * MINUTE);
    const found = await mailFromOf('example.com');

    expect(pending).toEqual({
      MailFromDomain: 'bounce.example.com',
      MailFromDomainStatus: 'PENDING',
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    });
    expect(missing?.MailFromDomainStatus).toBe('PENDING');
    expect(found?.MailFromDomainStatus).toBe('SUCCESS');
  });

  it('is FAILED after 72 hours with an MX record that points elsewhere', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(
      new PutEmailIdentityMailFromAttributesCommand({
        EmailIdentity: 'example.com',
        MailFromDomain: 'bounce.example.com',
        BehaviorOnMxFailure: 'REJECT_MESSAGE',
      }),
    );
    await publishMx('bounce.example.com', '10 mx.elsewhere.example.net');

    stack.clock.advance(72 * HOUR + MINUTE);
    const failed = await mailFromOf('example.com');

    expect(failed).toMatchObject({
      MailFromDomainStatus: 'FAILED',
      BehaviorOnMxFailure: 'REJECT_MESSAGE',
    });
  });

  it('turns FAILED when the MX record it found goes away', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await ses.send(
      new PutEmailIdentityMailFromAttributesCommand({
        EmailIdentity: 'example.com',
        MailFromDomain: 'bounce.example.com',
      }),
    );
    await publishMx('bounce.example.com', '10 feedback-smtp.us-east-1.amazonses.com');
    stack.clock.advance(MINUTE);
    const found = await mailFromOf('example.com');
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId(),
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: {
                Name: 'bounce.example.com',
                Type: 'MX',
                TTL: 300,
                ResourceRecords: [{ Value: '10 feedback-smtp.us-east-1.amazonses.com' }],
              },
            },
          ],
        },
      }),
    );
    stack.clock.advance(5 * MINUTE);
    const gone = await mailFromOf('example.com');

    expect(found?.MailFromDomainStatus).toBe('SUCCESS');
    expect(gone?.MailFromDomainStatus).toBe('FAILED');
  });

  it('refuses a MAIL FROM domain that is not a subdomain of the identity, and turns it off when empty', async () => {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'example.com' }));
    await expect(
      ses.send(
        new PutEmailIdentityMailFromAttributesCommand({
          EmailIdentity: 'example.com',
          MailFromDomain: 'bounce.example.org',
        }),
      ),
    ).rejects.toBeInstanceOf(BadRequestException);
    await ses.send(
      new PutEmailIdentityMailFromAttributesCommand({
        EmailIdentity: 'example.com',
        MailFromDomain: 'bounce.example.com',
      }),
    );

    await ses.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: 'example.com' }));

    expect(await mailFromOf('example.com')).toBeUndefined();
  });
});
