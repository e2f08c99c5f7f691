import { describe, expect, it } from 'vitest';
import {
  dkimRecordsFor,
  dmarcRecordFor,
  mailFromRecordsFor,
  toZoneFileLines,
} from '#shared/dns/records.js';
import {
  isReady,
  partsIn,
  type ReadinessFacts,
  type ReadinessPart,
  readinessOf,
  withReplicas,
} from '#shared/readiness/readiness.js';
import type { ReplicasReadiness } from '#shared/ses/replicas.js';
import type { DkimDnsRecord, ProbeResult } from '#shared/workflow/types.js';

const mailFrom = {
  domain: 'bounce.example.com',
  behavior_on_mx_failure: 'USE_DEFAULT_VALUE',
} as const;
const dmarc = { policy: 'quarantine', rua: 'mailto:dmarc@example.com' } as const;

describe('records of MAIL FROM and DMARC', () => {
  it('builds the MX to the Region feedback endpoint at priority 10 and the SPF record', () => {
    const records = mailFromRecordsFor(mailFrom, 'eu-south-1', { ttl: 600 });
    expect(records).toEqual([
      {
        type: 'MX',
        name: 'bounce.example.com',
        value: 'feedback-smtp.eu-south-1.amazonses.com',
        priority: 10,
        ttl: 600,
        part: 'mail_from',
      },
      {
        type: 'TXT',
        name: 'bounce.example.com',
        value: 'v=spf1 include:amazonses.com ~all',
        strings: ['v=spf1 include:amazonses.com ~all'],
        ttl: 600,
        part: 'mail_from',
      },
    ]);
    expect(toZoneFileLines(records)).toEqual([
      'bounce.example.com. 600 IN MX 10 feedback-smtp.eu-south-1.amazonses.com.',
      'bounce.example.com. 600 IN TXT "v=spf1 include:amazonses.com ~all"',
    ]);
  });

  it('builds the _dmarc record with the policy and the report address', () => {
    expect(dmarcRecordFor('Example.com.', dmarc)).toMatchObject({
      type: 'TXT',
      name: '_dmarc.example.com',
      value: 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com',
      part: 'dmarc',
    });
    expect(dmarcRecordFor('example.com', { policy: 'none', rua: null }).value).toBe(
      'v=DMARC1; p=none',
    );
  });
});

describe('readinessOf', () => {
  const dkim = dkimRecordsFor({
    identity: 'example.com',
    identity_type: 'DOMAIN',
    created_at: '2026-11-02T09:00:00.000Z',
    adopted: false,
    configuration_set_name: null,
    dkim: {
      origin: 'AWS_SES',
      tokens: ['aaaa', 'bbbb', 'cccc'],
      selector: null,
      status: 'PENDING',
      current_signing_key_length: null,
      next_signing_key_length: null,
      public_key: null,
    },
    dns: { provider: null, hosted_zone_id: null },
    change: null,
  });
  const records: DkimDnsRecord[] = [
    ...dkim,
    ...mailFromRecordsFor(mailFrom, 'us-east-1'),
    dmarcRecordFor('example.com', dmarc),
  ];
  const ok = (record: DkimDnsRecord): ProbeResult => ({
    name: record.name,
    type: record.type,
    status: 'OK',
    expected: record.value,
    found: null,
    detail: null,
  });
  const facts = (overrides: Partial<ReadinessFacts> = {}): ReadinessFacts => ({
    identity_type: 'DOMAIN',
    dkim_status: 'SUCCESS',
    verified_for_sending: true,
    mail_from_status: 'SUCCESS',
    parts: { mail_from: mailFrom, dmarc, tenant: { name: 'acme' } },
    sending: {
      mail_from: { ...mailFrom, region: 'us-east-1' },
      tenant: {
        name: 'acme',
        id: 'tn-1',
        arn: 'arn:aws:ses:us-east-1:1:tenant/acme/tn-1',
        created: false,
        resources: ['arn:aws:ses:us-east-1:1:identity/example.com'],
      },
    },
    dns: {
      provider: 'route53',
      provider_reason: '',
      hosted_zone_id: 'Z',
      hosted_zone_name: 'example.com',
      written: true,
      change_id: null,
      records,
      zone_file: [],
      dmarc: { action: 'PUBLISHED', name: '_dmarc.example.com', value: 'v=DMARC1; p=quarantine' },
    },
    probe: records.map(ok),
    ...overrides,
  });

  it('is ready when every requested part is, each with its own records', () => {
    const readiness = readinessOf(facts());
    expect(Object.keys(readiness)).toEqual(['dkim', 'mail_from', 'dmarc', 'tenant']);
    expect(isReady(readiness)).toBe(true);
    expect(readiness.dkim?.records.map((r) => r.type)).toEqual(['CNAME', 'CNAME', 'CNAME']);
    expect(readiness.mail_from?.records.map((r) => `${r.type} ${r.status}`)).toEqual([
      'MX OK',
      'TXT OK',
    ]);
    expect(readiness.tenant?.records).toEqual([]);
  });

  it('lists only the parts a request asks for', () => {
    const readiness = readinessOf(
      facts({ parts: { mail_from: null, dmarc: null, tenant: null }, sending: null }),
    );
    expect(Object.keys(readiness)).toEqual(['dkim']);
  });

  it('waits on MAIL FROM until SES says SUCCESS, and fails with it', () => {
    expect(readinessOf(facts({ mail_from_status: 'PENDING' })).mail_from?.status).toBe('PENDING');
    expect(readinessOf(facts({ mail_from_status: 'TEMPORARY_FAILURE' })).mail_from?.status).toBe(
      'PENDING',
    );
    const failed = readinessOf(facts({ mail_from_status: 'FAILED' }));
    expect(partsIn(failed, 'FAILED')).toEqual(['mail_from']);
    expect(failed.mail_from?.detail).toContain('feedback-smtp.us-east-1.amazonses.com');
  });

  it('waits on DMARC until the record is in DNS, and counts an existing record as ready', () => {
    const missing = facts().probe.map((r) =>
      r.name.startsWith('_dmarc') ? { ...r, status: 'MISSING' as const } : r,
    );
    expect(readinessOf(facts({ probe: missing })).dmarc?.status).toBe('PENDING');
    const existing = readinessOf(
      facts({
        dns: {
          ...facts().dns,
          records: records.filter((r) => r.part !== 'dmarc'),
          dmarc: { action: 'EXISTING', name: '_dmarc.example.com', value: 'v=DMARC1; p=none' },
        },
      }),
    );
    expect(existing.dmarc).toMatchObject({ status: 'READY', action: 'EXISTING' });
    expect(existing.dmarc?.records[0]?.value).toBe('v=DMARC1; p=none');
  });

  it('waits on the tenant until ConfigureSending has associated the identity', () => {
    const readiness = readinessOf(facts({ sending: null }));
    expect(readiness.tenant?.status).toBe('PENDING');
    expect(isReady(readiness)).toBe(false);
  });

  it('has no DKIM part for an address, whose tenant still counts', () => {
    const readiness = readinessOf(
      facts({
        identity_type: 'EMAIL_ADDRESS',
        parts: { mail_from: null, dmarc: null, tenant: { name: 'acme' } },
      }),
    );
    expect(Object.keys(readiness)).toEqual(['tenant']);
  });
});

describe('readiness with DEED replicas', () => {
  const dkim: ReadinessPart = {
    status: 'READY',
    ses_status: 'SUCCESS',
    records: [],
    detail: 'SES verified DKIM: the domain can sign and send.',
  };
  const replicas: ReplicasReadiness = {
    status: 'READY',
    regions: [{ region: 'eu-west-1', status: 'READY', detail: 'Verified in eu-west-1.' }],
  };

  it('puts the replicas beside the parts, one object, neither overwriting the other', () => {
    expect(withReplicas({ dkim }, replicas)).toEqual({ dkim, replicas });
  });

  it('leaves the parts alone when the request asked for no replicas', () => {
    expect(withReplicas({ dkim }, { status: 'NOT_REQUESTED', regions: [] })).toEqual({ dkim });
    expect(withReplicas({ dkim }, undefined)).toEqual({ dkim });
    expect(withReplicas(null, null)).toBeNull();
  });

  it("reports the replicas alone before the run's first look", () => {
    expect(withReplicas(null, replicas)).toEqual({ replicas });
  });
});
