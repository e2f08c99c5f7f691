import { randomUUID } from 'node:crypto';
import {
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { beforeAll, describe, expect, it } from 'vitest';
import { dkimRecordsFor } from '#shared/dns/records.js';
import { Route53DnsProvider } from '#shared/dns/route53-provider.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import byodkim from '../../events/publish-dns-records-byodkim.json' with { type: 'json' };
import easyDkim from '../../events/publish-dns-records-easy-dkim.json' with { type: 'json' };

// The Route 53 provider against moto_server, an independent implementation of the Route 53 API.
// scripts/conformance-moto.sh starts moto and sets MOTO_ENDPOINT_URL.
const endpoint = process.env.MOTO_ENDPOINT_URL;
if (endpoint === undefined || endpoint === '') {
  throw new Error('MOTO_ENDPOINT_URL is not set: run scripts/conformance-moto.sh');
}
const client = new Route53Client({ endpoint, region: 'us-east-1' });

// A fresh parent domain per run, so a long-lived moto never holds two zones of the same name.
const parent = `r53-${randomUUID().slice(0, 8)}.example`;
const apexDomain = parent;
const subdomain = `mail.${parent}`;

const easy = dkimRecordsFor({ ...(easyDkim as CreatedIdentity), identity: apexDomain });
const byo = dkimRecordsFor({ ...(byodkim as CreatedIdentity), identity: subdomain });

async function createZone(name: string, isPrivate = false): Promise<string> {
  const response = await client.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: randomUUID(),
      HostedZoneConfig: { Comment: 'conformance', PrivateZone: isPrivate },
      ...(isPrivate ? { VPC: { VPCId: 'vpc-12345678', VPCRegion: 'us-east-1' } } : {}),
    }),
  );
  return (response.HostedZone?.Id ?? '').replace('/hostedzone/', '');
}

async function recordSets(zoneId: string): Promise<ResourceRecordSet[]> {
  const sets: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: string } = {};
  for (;;) {
    const page = await client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ...start,
      } as ConstructorParameters<typeof ListResourceRecordSetsCommand>[0]),
    );
    sets.push(...(page.ResourceRecordSets ?? []));
    if (page.IsTruncated !== true) return sets;
    start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType };
  }
}

describe('Route53DnsProvider against moto_server', () => {
  const provider = new Route53DnsProvider({ client, sleep: async () => undefined });
  let publicZoneId = '';
  let privateZoneId = '';

  beforeAll(async () => {
    publicZoneId = await createZone(parent);
    // A private zone closer to the subdomain, which SES cannot see: the provider must skip it.
    privateZoneId = await createZone(subdomain, true);
    await createZone(`other-${parent}`);
  });

  it('finds the public parent zone for a subdomain, skipping the private zone', async () => {
    const zone = await provider.findZone(subdomain, null);
    expect(zone).toEqual({ id: publicZoneId, name: parent });
    expect(zone?.id).not.toBe(privateZoneId);
  });

  it('takes an explicit zone id and checks that it holds the domain', async () => {
    await expect(provider.findZone(apexDomain, `/hostedzone/${publicZoneId}`)).resolves.toEqual({
      id: publicZoneId,
      name: parent,
    });
    await expect(provider.findZone('example.net', publicZoneId)).rejects.toMatchObject({
      name: 'DnsPublishError',
    });
  });

  it('publishes the Easy DKIM CNAMEs and the BYODKIM TXT, which read back as written', async () => {
    const zone = { id: publicZoneId, name: parent };
    const first = await provider.publish(easy, zone);
    const second = await provider.publish(byo, zone);
    expect(first).toMatchObject({ written: true, changeId: expect.any(String) });
    expect(second).toMatchObject({ written: true, changeId: expect.any(String) });

    const sets = await recordSets(publicZoneId);
    for (const record of easy) {
      expect(sets).toContainEqual(
        expect.objectContaining({
          Name: `${record.name}.`,
          Type: 'CNAME',
          TTL: 1800,
          ResourceRecords: [{ Value: `${record.value}.` }],
        }),
      );
    }
    const [txt] = byo;
    const strings = txt?.strings ?? [];
    expect(sets).toContainEqual(
      expect.objectContaining({
        Name: `${txt?.name}.`,
        Type: 'TXT',
        ResourceRecords: [{ Value: strings.map((s) => `"${s}"`).join(' ') }],
      }),
    );
  });

  it('writes nothing when the records are already there', async () => {
    const zone = { id: publicZoneId, name: parent };
    await expect(provider.publish([...easy, ...byo], zone)).resolves.toMatchObject({
      written: true,
      changeId: null,
    });
  });

  it('UPSERTs over a changed TTL, then removes the records with DELETE', async () => {
    const zone = { id: publicZoneId, name: parent };
    const shorter = easy.map((r) => ({ ...r, ttl: 300 }));
    await expect(provider.publish(shorter, zone)).resolves.toMatchObject({
      changeId: expect.any(String),
    });
    const ttls = (await recordSets(publicZoneId))
      .filter((s) => s.Type === 'CNAME')
      .map((s) => s.TTL);
    expect(ttls).toEqual([300, 300, 300]);

    await expect(provider.remove([...easy, ...byo], zone)).resolves.toMatchObject({
      written: true,
    });
    const left = (await recordSets(publicZoneId)).filter((s) => s.Name?.includes('_domainkey'));
    expect(left).toEqual([]);
    await expect(provider.remove(easy, zone)).resolves.toMatchObject({ written: false });
  });
});
