import type { CreatedIdentity, DkimDnsRecord, ProbeResult } from '#shared/workflow/types.js';
import type { CheckResult } from '#steps/check-verification/check-identity.js';

/** A domain identity as CreateIdentity returns it, created at `createdAt`. */
export function easyDkimIdentity(createdAt: Date, identity = 'example.com'): CreatedIdentity {
  return {
    identity,
    identity_type: 'DOMAIN',
    created_at: createdAt.toISOString(),
    adopted: false,
    configuration_set_name: null,
    dkim: {
      origin: 'AWS_SES',
      tokens: ['tokena', 'tokenb', 'tokenc'],
      selector: null,
      status: 'PENDING',
      current_signing_key_length: 'RSA_2048_BIT',
      next_signing_key_length: 'RSA_2048_BIT',
      public_key: null,
    },
    dns: { provider: null, hosted_zone_id: null },
    change: null,
  };
}

export function addressIdentity(createdAt: Date, identity = 'ops@example.com'): CreatedIdentity {
  return {
    identity,
    identity_type: 'EMAIL_ADDRESS',
    created_at: createdAt.toISOString(),
    adopted: false,
    configuration_set_name: null,
    dkim: null,
    dns: { provider: null, hosted_zone_id: null },
    change: null,
  };
}

export function cnameRecords(domain = 'example.com'): DkimDnsRecord[] {
  return ['tokena', 'tokenb', 'tokenc'].map((token) => ({
    type: 'CNAME',
    name: `${token}._domainkey.${domain}`,
    value: `${token}.dkim.amazonses.com`,
    ttl: 1800,
  }));
}

export function probeAll(records: DkimDnsRecord[], status: ProbeResult['status']): ProbeResult[] {
  return records.map((r) => ({
    name: r.name,
    type: r.type,
    status,
    expected: r.value,
    found: status === 'OK' ? r.value : null,
    detail: null,
  }));
}

/** The check state the state machine starts with (ReadRequest in the ASL). */
export const firstCheck: CheckResult = {
  outcome: 'PENDING',
  dkim_status: null,
  dkim: null,
  verified_for_sending: false,
  checks: 0,
  checked_at: null,
  deadline: null,
  next_check_seconds: 60,
  elapsed_seconds: 0,
  probe: [],
  verification_info: null,
  failure: null,
  readiness: null,
};
