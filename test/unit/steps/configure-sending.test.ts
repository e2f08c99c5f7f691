import {
  AlreadyExistsException,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  GetTenantCommand,
  NotFoundException,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SesNotFoundError, ThrottlingError } from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { configureSending } from '#steps/configure-sending/configure-sending.js';

const TENANT_ARN = 'arn:aws:ses:eu-west-1:123456789012:tenant/acme/tn-1';
const settings = { account: '123456789012', region: 'eu-west-1' };
const identity = (
  parts: CreatedIdentity['parts'],
  configurationSet: string | null = null,
): CreatedIdentity => ({
  identity: 'example.com',
  identity_type: 'DOMAIN',
  created_at: '2026-11-02T09:00:00.000Z',
  adopted: false,
  configuration_set_name: configurationSet,
  dkim: null,
  dns: { provider: null, hosted_zone_id: null },
  change: null,
  parts,
});
const notFound = () =>
  new NotFoundException({ message: 'Tenant <acme> does not exist.', $metadata: {} });
const alreadyExists = () => new AlreadyExistsException({ message: 'exists', $metadata: {} });

describe('configureSending', () => {
  const ses = mockClient(SESv2Client);
  beforeEach(() => {
    ses.reset();
    ses.on(PutEmailIdentityMailFromAttributesCommand).resolves({});
    ses.on(CreateTenantResourceAssociationCommand).resolves({});
  });

  it('sets the MAIL FROM domain with its MX failure behaviour, and nothing about tenants', async () => {
    const setup = await configureSending(
      identity({
        mail_from: { domain: 'bounce.example.com', behavior_on_mx_failure: 'REJECT_MESSAGE' },
        dmarc: null,
        tenant: null,
      }),
      settings,
    );
    expect(ses).toHaveReceivedCommandWith(PutEmailIdentityMailFromAttributesCommand, {
      EmailIdentity: 'example.com',
      MailFromDomain: 'bounce.example.com',
      BehaviorOnMxFailure: 'REJECT_MESSAGE',
    });
    expect(ses).not.toHaveReceivedCommand(GetTenantCommand);
    expect(setup).toEqual({
      mail_from: {
        domain: 'bounce.example.com',
        behavior_on_mx_failure: 'REJECT_MESSAGE',
        region: 'eu-west-1',
      },
      tenant: null,
    });
  });

  it('creates a tenant SES does not know and associates the identity and its configuration set', async () => {
    ses.on(GetTenantCommand).rejects(notFound());
    ses
      .on(CreateTenantCommand)
      .resolves({ TenantName: 'acme', TenantId: 'tn-1', TenantArn: TENANT_ARN });
    const setup = await configureSending(
      identity({ mail_from: null, dmarc: null, tenant: { name: 'acme' } }, 'acme-set'),
      settings,
    );
    expect(ses).toHaveReceivedCommandWith(CreateTenantCommand, { TenantName: 'acme' });
    expect(ses).toHaveReceivedCommandWith(CreateTenantResourceAssociationCommand, {
      TenantName: 'acme',
      ResourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.com',
    });
    expect(ses).toHaveReceivedCommandWith(CreateTenantResourceAssociationCommand, {
      TenantName: 'acme',
      ResourceArn: 'arn:aws:ses:eu-west-1:123456789012:configuration-set/acme-set',
    });
    expect(ses).not.toHaveReceivedCommand(PutEmailIdentityMailFromAttributesCommand);
    expect(setup.tenant).toEqual({
      name: 'acme',
      id: 'tn-1',
      arn: TENANT_ARN,
      created: true,
      resources: [
        'arn:aws:ses:eu-west-1:123456789012:identity/example.com',
        'arn:aws:ses:eu-west-1:123456789012:configuration-set/acme-set',
      ],
    });
  });

  it('joins an existing tenant without creating it, and takes an association that exists as done', async () => {
    ses
      .on(GetTenantCommand)
      .resolves({ Tenant: { TenantName: 'acme', TenantId: 'tn-1', TenantArn: TENANT_ARN } });
    ses.on(CreateTenantResourceAssociationCommand).rejects(alreadyExists());
    const setup = await configureSending(
      identity({ mail_from: null, dmarc: null, tenant: { name: 'acme' } }),
      settings,
    );
    expect(ses).not.toHaveReceivedCommand(CreateTenantCommand);
    expect(setup.tenant).toMatchObject({ created: false, arn: TENANT_ARN });
  });

  it('reads the tenant again when another run created it at the same moment', async () => {
    ses
      .on(GetTenantCommand)
      .rejectsOnce(notFound())
      .resolves({ Tenant: { TenantName: 'acme', TenantId: 'tn-1', TenantArn: TENANT_ARN } });
    ses.on(CreateTenantCommand).rejects(alreadyExists());
    const setup = await configureSending(
      identity({ mail_from: null, dmarc: null, tenant: { name: 'acme' } }),
      settings,
    );
    expect(ses).toHaveReceivedCommandTimes(GetTenantCommand, 2);
    expect(setup.tenant).toMatchObject({ created: false, arn: TENANT_ARN });
  });

  it('throws ThrottlingError, which the state machine retries, when SES throttles', async () => {
    ses
      .on(PutEmailIdentityMailFromAttributesCommand)
      .rejects(new TooManyRequestsException({ message: 'slow', $metadata: {} }));
    await expect(
      configureSending(
        identity({
          mail_from: { domain: 'b.example.com', behavior_on_mx_failure: 'USE_DEFAULT_VALUE' },
          dmarc: null,
          tenant: null,
        }),
        settings,
      ),
    ).rejects.toBeInstanceOf(ThrottlingError);
  });

  it('throws SesNotFoundError when SES no longer has the identity to associate', async () => {
    ses.on(GetTenantCommand).resolves({ Tenant: { TenantName: 'acme', TenantArn: TENANT_ARN } });
    ses
      .on(CreateTenantResourceAssociationCommand)
      .rejects(new NotFoundException({ message: 'Resource does not exist.', $metadata: {} }));
    await expect(
      configureSending(
        identity({ mail_from: null, dmarc: null, tenant: { name: 'acme' } }),
        settings,
      ),
    ).rejects.toBeInstanceOf(SesNotFoundError);
  });
});
