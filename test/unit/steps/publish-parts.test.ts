import { describe, expect, it } from 'vitest';
import { ManualDnsProvider } from '#shared/dns/manual-provider.js';
import { ServiceUnavailableError } from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { type PublishSettings, publishDkimRecords } from '#steps/publish-dns-records/publish.js';

// PublishDnsRecords with MAIL FROM and DMARC, through the manual provider (DNS is asked about DMARC).
const identity: CreatedIdentity = {
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
    signing_hosted_zone: 'dkim.af-south-1.amazonses.com',
  },
  dns: { provider: 'manual', hosted_zone_id: null },
  change: null,
  parts: {
    mail_from: { domain: 'bounce.example.com', behavior_on_mx_failure: 'USE_DEFAULT_VALUE' },
    dmarc: { policy: 'reject', rua: 'mailto:dmarc@example.com' },
    tenant: null,
  },
};
const settings = (lookupTxt: PublishSettings['lookupTxt']): PublishSettings => ({
  providers: [],
  fallback: new ManualDnsProvider(),
  ttl: 1800,
  defaultHostedZoneId: null,
  region: 'af-south-1',
  lookupTxt,
});

describe('publishDkimRecords with MAIL FROM and DMARC', () => {
  it('lists the DKIM, MAIL FROM and DMARC records to add by hand when no DMARC record exists', async () => {
    const out = await publishDkimRecords(
      identity,
      settings(async () => []),
    );
    expect(out.records.map((r) => `${r.part} ${r.type} ${r.name}`)).toEqual([
      'undefined CNAME aaaa._domainkey.example.com',
      'undefined CNAME bbbb._domainkey.example.com',
      'undefined CNAME cccc._domainkey.example.com',
      'mail_from MX bounce.example.com',
      'mail_from TXT bounce.example.com',
      'dmarc TXT _dmarc.example.com',
    ]);
    expect(out.zone_file).toContain(
      'bounce.example.com. 1800 IN MX 10 feedback-smtp.af-south-1.amazonses.com.',
    );
    expect(out.zone_file).toContain(
      '_dmarc.example.com. 1800 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"',
    );
    expect(out.dmarc).toEqual({
      action: 'REQUIRED',
      name: '_dmarc.example.com',
      value: 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com',
    });
  });

  it('reports a DMARC record DNS already holds and asks for none', async () => {
    const out = await publishDkimRecords(
      identity,
      settings(async (name) =>
        name === '_dmarc.example.com' ? ['some-verification=1', 'v=DMARC1; p=none'] : [],
      ),
    );
    expect(out.records.some((r) => r.part === 'dmarc')).toBe(false);
    expect(out.dmarc).toEqual({
      action: 'EXISTING',
      name: '_dmarc.example.com',
      value: 'v=DMARC1; p=none',
    });
  });

  it('does not publish blind when DNS cannot say whether a DMARC record exists: a retryable error', async () => {
    await expect(
      publishDkimRecords(
        identity,
        settings(async () => {
          throw new Error('ETIMEOUT: queryTxt ETIMEOUT _dmarc.example.com');
        }),
      ),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
