import {
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  GetTenantCommand,
  PutEmailIdentityMailFromAttributesCommand,
} from '@aws-sdk/client-sesv2';
import { sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';
import { configurationSetArn, identityArn } from '#shared/ses/identity-settings.js';
import type { CreatedIdentity, SendingSetup } from '#shared/workflow/types.js';

export interface ConfigureSendingSettings {
  /** The account, for the ARNs of the identity and its configuration set. */
  account: string;
  /** The Region SES runs in: its feedback endpoint is the MAIL FROM MX record's target. */
  region: string;
}

/**
 * ConfigureSending: what "ready to send" needs of SES beyond DKIM, asked by the request. A
 * custom MAIL FROM domain (PutEmailIdentityMailFromAttributes: SES then looks for its MX record,
 * which PublishDnsRecords publishes, and reports MailFromDomainStatus), and the identity's
 * tenant: CreateTenant when it does not exist yet, then CreateTenantResourceAssociation for the
 * identity and its configuration set, so that SES scopes reputation and sending pauses to that
 * tenant (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateTenantResourceAssociation.html).
 * Each call is safe to repeat, so a retried step changes nothing twice.
 */
export async function configureSending(
  identity: CreatedIdentity,
  settings: ConfigureSendingSettings,
): Promise<SendingSetup> {
  const parts = identity.parts ?? null;
  const mailFrom = parts?.mail_from ?? null;
  if (mailFrom !== null) {
    try {
      await sesv2Client.send(
        new PutEmailIdentityMailFromAttributesCommand({
          EmailIdentity: identity.identity,
          MailFromDomain: mailFrom.domain,
          BehaviorOnMxFailure: mailFrom.behavior_on_mx_failure,
        }),
      );
    } catch (error) {
      throw toStepError(error, `PutEmailIdentityMailFromAttributes ${identity.identity}`);
    }
  }
  const tenantName = parts?.tenant?.name ?? null;
  return {
    mail_from: mailFrom === null ? null : { ...mailFrom, region: settings.region },
    tenant: tenantName === null ? null : await joinTenant(tenantName, identity, settings),
  };
}

/** The tenant, created if need be, with the identity and its configuration set associated. */
async function joinTenant(
  name: string,
  identity: CreatedIdentity,
  settings: ConfigureSendingSettings,
): Promise<NonNullable<SendingSetup['tenant']>> {
  const { tenant, created } = await findOrCreateTenant(name);
  const resources = [identityArn(identity.identity, settings.account, settings.region)];
  if (identity.configuration_set_name !== null) {
    resources.push(
      configurationSetArn(identity.configuration_set_name, settings.account, settings.region),
    );
  }
  for (const resourceArn of resources) {
    try {
      await sesv2Client.send(
        new CreateTenantResourceAssociationCommand({ TenantName: name, ResourceArn: resourceArn }),
      );
    } catch (error) {
      // Associated already (an earlier attempt of this step, or another run): what we want.
      if (sesErrorName(error) !== 'AlreadyExistsException') {
        throw toStepError(error, `CreateTenantResourceAssociation ${name} ${resourceArn}`);
      }
    }
  }
  return { name, id: tenant.id, arn: tenant.arn, created, resources };
}

/**
 * GetTenant, and CreateTenant only when SES does not know the tenant: a platform's tenants
 * usually exist before their second domain. Another run creating it at the same moment answers
 * AlreadyExistsException, and the tenant is read again.
 */
async function findOrCreateTenant(
  name: string,
): Promise<{ tenant: { id: string | null; arn: string | null }; created: boolean }> {
  const existing = await getTenant(name);
  if (existing !== null) return { tenant: existing, created: false };
  try {
    const output = await sesv2Client.send(new CreateTenantCommand({ TenantName: name }));
    return {
      tenant: { id: output.TenantId ?? null, arn: output.TenantArn ?? null },
      created: true,
    };
  } catch (error) {
    if (sesErrorName(error) !== 'AlreadyExistsException') {
      throw toStepError(error, `CreateTenant ${name}`);
    }
    const raced = await getTenant(name);
    return { tenant: raced ?? { id: null, arn: null }, created: false };
  }
}

async function getTenant(name: string): Promise<{ id: string | null; arn: string | null } | null> {
  try {
    const output = await sesv2Client.send(new GetTenantCommand({ TenantName: name }));
    return { id: output.Tenant?.TenantId ?? null, arn: output.Tenant?.TenantArn ?? null };
  } catch (error) {
    if (sesErrorName(error) === 'NotFoundException') return null;
    throw toStepError(error, `GetTenant ${name}`);
  }
}
