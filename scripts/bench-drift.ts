/**
 * What the drift watch costs for a fleet: N verified Easy DKIM domains (default 10,000) in the
 * registry (dynalite), their records on a real DNS server on 127.0.0.1, SES answering
 * ListEmailIdentities with every identity at SUCCESS (aws-sdk-client-mock, 1,000 a page), and
 * the real sweep run once per virtual minute for one probe interval (DriftProbeIntervalMinutes,
 * default 60). Prints the SES calls, DNS questions, probes per sweep (least and most), registry
 * calls and the wall and CPU time of the sweeps. Nothing drifts: this is the steady cost.
 * Usage: `npx tsx scripts/bench-drift.ts [N] [intervalMinutes]`.
 */
import os from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListEmailIdentitiesCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { probeSlot } from '#jobs/sweeper/drift.js';
import type { RegistryItem } from '#shared/registry/items.js';
import type { DkimDnsRecord } from '#shared/workflow/types.js';
import { startDnsServer, type ZoneData } from '#test/support/dns-server.js';
import { REGISTRY_TABLE, startRegistryTable } from '#test/support/registry-table.js';

const size = Number(process.argv[2] ?? 10_000);
const intervalMinutes = Number(process.argv[3] ?? 60);
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const registry = await startRegistryTable();
const zone: Record<string, ZoneData> = {};
const names: string[] = [];
const items: RegistryItem[] = [];
const start = new Date('2026-12-01T00:00:00.000Z');
for (let i = 0; i < size; i += 1) {
  const identity = `tenant${i}.example.com`;
  names.push(identity);
  const records: DkimDnsRecord[] = [0, 1, 2].map((k) => {
    const token = `${String(i).padStart(8, 'a')}${'abcdefghijklmnopqrstuvwx'.slice(0, 24)}${k}`;
    return {
      type: 'CNAME',
      name: `${token}._domainkey.${identity}`,
      value: `${token}.dkim.amazonses.com`,
      ttl: 1800,
    };
  });
  for (const record of records) zone[record.name] = { CNAME: [record.value] };
  items.push({
    identity,
    kind: 'IDENTITY',
    identity_type: 'DOMAIN',
    status: 'VERIFIED',
    dkim_status: 'SUCCESS',
    ses_status: 'SUCCESS',
    created_at: start.toISOString(),
    updated_at: start.toISOString(),
    latest_run: {
      id: `run-${i}`,
      execution_arn: `arn:aws:states:us-east-1:123456789012:execution:VerifyEmailIdentity:run-${i}`,
      operation: 'CreateIdentity',
      request_hash: 'h',
      started_at: start.toISOString(),
      status: 'VERIFIED',
      reason: null,
      ended_at: start.toISOString(),
    },
    records_json: JSON.stringify(records),
    published_json: JSON.stringify({
      provider: 'route53',
      provider_reason: 'zone Z1 (example.com) is the longest match for the domain',
      hosted_zone_id: 'Z1',
      hosted_zone_name: 'example.com',
      written: true,
      change_id: 'C1',
      records,
      zone_file: [],
    }),
    probe_json: JSON.stringify(
      records.map((r) => ({ ...r, status: 'OK', expected: r.value, found: null, detail: null })),
    ),
    checked_at: start.toISOString(),
    // Where the previous interval's sweeps left it: due in its own minute of this interval.
    probe_due_at: new Date(
      start.getTime() + (intervalMinutes + probeSlot(identity, intervalMinutes)) * 60_000,
    ).toISOString(),
    auto_restart: true,
    restart_request_json: JSON.stringify({ EmailIdentity: identity }),
  });
}
const documents = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }),
);
for (let i = 0; i < items.length; i += 25) {
  let requests: BatchWriteCommandInput['RequestItems'] = {
    [REGISTRY_TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
  };
  // DynamoDB may leave some of a batch unprocessed: write them again until none are left.
  while (requests !== undefined && Object.keys(requests).length > 0) {
    const output: BatchWriteCommandOutput = await documents.send(
      new BatchWriteCommand({ RequestItems: requests }),
    );
    requests = output.UnprocessedItems;
  }
}
const itemBytes = Buffer.byteLength(JSON.stringify(items[0]));

const dns = await startDnsServer(zone);
const ses = mockClient(SESv2Client);
ses.on(ListEmailIdentitiesCommand).callsFake((input: { NextToken?: string }) => {
  const from = Number(input.NextToken ?? 0);
  return {
    EmailIdentities: names.slice(from, from + 1000).map((IdentityName) => ({
      IdentityType: 'DOMAIN',
      IdentityName,
      VerificationStatus: 'SUCCESS',
    })),
    NextToken: from + 1000 < names.length ? String(from + 1000) : undefined,
  };
});

const { dynamodbClient } = await import('#shared/aws/clients/dynamodb.js');
const registryCalls: Record<string, number> = {};
dynamodbClient.middlewareStack.add(
  (next, context) => (args) => {
    const name = context.commandName ?? 'unknown';
    registryCalls[name] = (registryCalls[name] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize' },
);
const { sweep } = await import('#jobs/sweeper/sweep.js');

const probesPerSweep: number[] = [];
const watchedPerSweep: number[] = [];
let deferred = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
// The sweeps of one interval, each identity checked when last probed at `start`.
for (let minute = 0; minute < intervalMinutes; minute += 1) {
  const now = new Date(start.getTime() + (60 + minute) * 60_000);
  const report = await sweep(REGISTRY_TABLE, now, {
    registryTable: REGISTRY_TABLE,
    intervalMinutes,
    probe: { resolvers: [dns.address], queryAuthoritative: false },
    eventBusName: 'default',
    eventSource: 'ses-identity-verifier',
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:VerifyEmailIdentity',
    repair: async () => {
      throw new Error('nothing drifts in this benchmark');
    },
  });
  probesPerSweep.push(report.drift?.probed ?? 0);
  watchedPerSweep.push(report.drift?.watched ?? 0);
  deferred += report.drift?.deferred ?? 0;
}
const wallMs = performance.now() - wallBefore;
const cpu = process.cpuUsage(cpuBefore);
// Which identities the interval's sweeps probed at least once (their checked_at moved on).
let probedOnce = 0;
let scanKey: ScanCommandOutput['LastEvaluatedKey'];
do {
  const page: ScanCommandOutput = await documents.send(
    new ScanCommand({
      TableName: REGISTRY_TABLE,
      ProjectionExpression: 'checked_at',
      ExclusiveStartKey: scanKey,
    }),
  );
  probedOnce += (page.Items ?? []).filter(
    (item) => String(item.checked_at) > start.toISOString(),
  ).length;
  scanKey = page.LastEvaluatedKey;
} while (scanKey !== undefined);
const probes = probesPerSweep.reduce((a, b) => a + b, 0);

console.log(
  `drift watch, ${size.toLocaleString('en')} verified identities, one ${intervalMinutes}-minute interval (${intervalMinutes} sweeps):`,
);
console.log(
  `  identities the registry gave a sweep: ${Math.min(...watchedPerSweep)} to ${Math.max(...watchedPerSweep)} (${watchedPerSweep.reduce((a, b) => a + b, 0)} in all); probes left to the next sweep: ${deferred}`,
);
console.log(
  `  SES ListEmailIdentities calls: ${ses.commandCalls(ListEmailIdentitiesCommand).length}`,
);
console.log(
  `  probes: ${probes} (${Math.min(...probesPerSweep)} to ${Math.max(...probesPerSweep)} a sweep); identities probed at least once: ${probedOnce} of ${size}`,
);
console.log(
  `  DNS questions to the resolver: ${dns.questions.length} (${(dns.questions.length / Math.max(probes, 1)).toFixed(1)} a probe)`,
);
console.log(`  registry calls: ${JSON.stringify(registryCalls)}; ${itemBytes} bytes an item`);
console.log(
  `  sweeps: ${(wallMs / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${(wallMs / intervalMinutes / 1000).toFixed(2)} s a sweep); load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await dns.close();
await registry.close();
