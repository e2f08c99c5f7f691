import type { DkimAttributes, GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import type { VerificationInfo } from '#shared/workflow/failure.js';
import type {
  DkimKeyLength,
  DkimOrigin,
  DkimStatus,
  IdentityType,
} from '#shared/workflow/types.js';
import { signingHostedZone } from './dkim-zones.js';

/**
 * SES's answers about an identity, in our vocabulary. Every reader of GetEmailIdentity (and of
 * the DKIM attributes CreateEmailIdentity returns) goes through these mappers, so that they
 * agree on what SES said.
 */

/** DKIM as SES reports it for an identity. */
export interface SesDkim {
  /**
   * Easy DKIM (`AWS_SES`) or BYODKIM (`EXTERNAL`); null when SES reports neither an origin nor
   * tokens: DKIM was never set up.
   */
  origin: DkimOrigin | null;
  /** SES's own value: `AWS_SES_<REGION>` for an Easy DKIM key replicated from another Region. */
  signing_attributes_origin: string | null;
  signing_enabled: boolean;
  status: DkimStatus | null;
  /** Easy DKIM: the tokens of the CNAME records. BYODKIM: empty. */
  tokens: string[];
  /** BYODKIM: the selector (SES reports it in place of tokens). Easy DKIM: null. */
  selector: string | null;
  current_signing_key_length: DkimKeyLength | null;
  next_signing_key_length: DkimKeyLength | null;
  /** Easy DKIM: when SES last generated a key pair (a key length changes at most once a day). */
  last_key_generated_at: string | null;
  /** Easy DKIM: the zone the CNAMEs point into (SES's SigningHostedZone, or its Region's). */
  signing_hosted_zone: string | null;
}

/** SES's VerificationInfo, with the SOA record SES saw for the domain. */
export interface SesVerificationInfo extends VerificationInfo {
  soa_record: {
    primary_name_server: string | null;
    admin_email: string | null;
    serial_number: number | null;
  } | null;
}

/** An identity as SES reports it (GetEmailIdentity). */
export interface SesIdentity {
  identity: string;
  /** SES also knows MANAGED_DOMAIN identities, which this stack never creates. */
  identity_type: IdentityType | 'MANAGED_DOMAIN' | null;
  verification_status: DkimStatus | null;
  verified_for_sending: boolean;
  configuration_set_name: string | null;
  tags: { key: string; value: string }[];
  /** Null when SES returns no DKIM attributes at all. */
  dkim: SesDkim | null;
  verification_info: SesVerificationInfo | null;
  /** Names of the sending authorization policies attached to the identity. */
  policy_names: string[];
  /** The custom MAIL FROM domain, when one is set. */
  mail_from_domain: string | null;
  /** The custom MAIL FROM domain and what SES's look for its MX record found; null: none set. */
  mail_from: SesMailFrom | null;
}

/** SES's MailFromAttributes. */
export interface SesMailFrom {
  domain: string;
  /** PENDING, SUCCESS, FAILED or TEMPORARY_FAILURE (MailFromDomainStatus). */
  status: string | null;
  behavior_on_mx_failure: string | null;
}

/**
 * The DKIM origin in our terms. EXTERNAL is BYODKIM; AWS_SES and the per-Region AWS_SES_<REGION>
 * (Deterministic Easy DKIM replicas) are Easy DKIM, as the API reference's DkimAttributes
 * describes SigningAttributesOrigin
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html). An answer
 * without an origin comes from before BYODKIM existed (SES v1, some emulators): its tokens, if
 * any, are Easy DKIM's, the only kind there was; without tokens, DKIM was never set up.
 */
function originOf(attributes: DkimAttributes): DkimOrigin | null {
  const origin = attributes.SigningAttributesOrigin;
  if (origin === 'EXTERNAL') return 'EXTERNAL';
  if (origin !== undefined) return 'AWS_SES';
  return (attributes.Tokens?.length ?? 0) > 0 ? 'AWS_SES' : null;
}

/** SES's DkimAttributes (from GetEmailIdentity or CreateEmailIdentity) in our vocabulary. */
export function sesDkimOf(attributes: DkimAttributes | undefined): SesDkim | null {
  if (attributes === undefined) return null;
  const origin = originOf(attributes);
  const tokens = attributes.Tokens ?? [];
  return {
    origin,
    signing_attributes_origin: attributes.SigningAttributesOrigin ?? null,
    signing_enabled: attributes.SigningEnabled ?? false,
    status: (attributes.Status as DkimStatus | undefined) ?? null,
    tokens: origin === 'AWS_SES' ? [...tokens] : [],
    selector: origin === 'EXTERNAL' ? (tokens[0] ?? null) : null,
    current_signing_key_length: attributes.CurrentSigningKeyLength ?? null,
    next_signing_key_length: attributes.NextSigningKeyLength ?? null,
    last_key_generated_at: attributes.LastKeyGenerationTimestamp?.toISOString() ?? null,
    signing_hosted_zone:
      origin === 'AWS_SES' ? signingHostedZone(attributes.SigningHostedZone) : null,
  };
}

/** GetEmailIdentity's answer for `identity`, in our vocabulary. */
export function sesIdentityOf(
  identity: string,
  output: Omit<GetEmailIdentityCommandOutput, '$metadata'>,
): SesIdentity {
  const info = output.VerificationInfo;
  return {
    identity,
    identity_type: output.IdentityType ?? null,
    verification_status: (output.VerificationStatus as DkimStatus | undefined) ?? null,
    verified_for_sending: output.VerifiedForSendingStatus ?? false,
    configuration_set_name: output.ConfigurationSetName ?? null,
    tags: (output.Tags ?? []).map((tag) => ({ key: tag.Key ?? '', value: tag.Value ?? '' })),
    dkim: sesDkimOf(output.DkimAttributes),
    policy_names: Object.keys(output.Policies ?? {}),
    mail_from_domain: output.MailFromAttributes?.MailFromDomain ?? null,
    mail_from: output.MailFromAttributes?.MailFromDomain
      ? {
          domain: output.MailFromAttributes.MailFromDomain,
          status: output.MailFromAttributes.MailFromDomainStatus ?? null,
          behavior_on_mx_failure: output.MailFromAttributes.BehaviorOnMxFailure ?? null,
        }
      : null,
    verification_info: info
      ? {
          error_type: info.ErrorType ?? null,
          last_checked_at: info.LastCheckedTimestamp?.toISOString() ?? null,
          last_success_at: info.LastSuccessTimestamp?.toISOString() ?? null,
          soa_record: info.SOARecord
            ? {
                primary_name_server: info.SOARecord.PrimaryNameServer ?? null,
                admin_email: info.SOARecord.AdminEmail ?? null,
                serial_number: info.SOARecord.SerialNumber ?? null,
              }
            : null,
        }
      : null,
  };
}
