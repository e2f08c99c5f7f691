import { generateKeyPairSync } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  waitUntilResourceRecordSetsChanged,
} from '@aws-sdk/client-route-53';
import { GetExecutionHistoryCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxMessage } from '#sandbox/emulators/ses.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { expectValidDetail } from '#test/support/event-schemas.js';
import {
  deliveredEventsOf,
  getIdentity,
  getJson,
  holdAtEvent,
  holdWhenAsleep,
  postIdentity,
  TERMINAL_DETAIL_TYPES,
  terminalEventOf,
} from './harness.js';

// The whole sandbox in this process, on random ports, driven over HTTP and through the SDK.
let stack: SandboxStack;

beforeAll(async () => {
  // These runs are about the workflow's paths, not SES's rate (ses-rate.test.ts is): SES's
  // one request per second per operation is off, so no run depends on how retries interleave.
  stack = await startStack({ zones: ['example.com'], sesFaults: { rateLimit: 0 } });
}, 30_000);

afterAll(async () => {
  if (!stack) return;
  // Every event the runs delivered matches the schema of its detail-type, and no run ended
  // with more than one terminal event.
  const events = stack.emulators.events.events();
  for (const event of events) expectValidDetail(event['detail-type'], event.detail);
  const terminals = events.filter((event) => TERMINAL_DETAIL_TYPES.includes(event['detail-type']));
  const runs = terminals.map((event) => event.detail.execution_id);
  expect(new Set(runs).size).toBe(runs.length);
  await stack.stop();
});

function rsaPrivateKeyBase64(bits: number): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

async function recordSetsOf(name: string) {
  const zone = stack.emulators.zones.get('example.com');
  const output = await stack.clients.route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zone?.id }),
  );
  return (output.ResourceRecordSets ?? []).filter((set) => set.Name?.endsWith(`${name}.`));
}

describe('the sandbox, end to end over HTTP', () => {
  it('verifies an Easy DKIM domain under a sandbox zone: records in Route 53, status VERIFIED', async () => {
    const started = await postIdentity(stack, { EmailIdentity: 'easy.example.com' });
    expect(started.status).toBe(202);
    expect(started.body.data).toMatchObject({ identity: 'easy.example.com', status: 'PENDING' });

    const terminal = await terminalEventOf(stack, 'easy.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(terminal.detail).toMatchObject({ dkim_status: 'SUCCESS', provider: 'route53' });
    const cnames = (await recordSetsOf('_domainkey.easy.example.com')).filter(
      (set) => set.Type === 'CNAME',
    );
    expect(cnames).toHaveLength(3);
    for (const set of cnames) {
      const token = set.Name?.split('.')[0];
      expect(set.ResourceRecords?.[0]?.Value?.replace(/\.$/, '')).toBe(
        `${token}.dkim.amazonses.com`,
      );
    }
    const status = await getIdentity(stack, 'easy.example.com');
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({ status: 'VERIFIED', dkim_status: 'SUCCESS' });
    // The registry lists it, and a check now finds every record in DNS, with no run to wake.
    const listed = await getJson<{ data: { items: { identity: string; status: string }[] } }>(
      `${stack.apiUrl}/identities?status=VERIFIED`,
    );
    expect(listed.body.data.items).toContainEqual(
      expect.objectContaining({ identity: 'easy.example.com', status: 'VERIFIED' }),
    );
    const checked = await fetch(`${stack.apiUrl}/identities/easy.example.com/check`, {
      method: 'POST',
    });
    const check = (await checked.json()) as {
      data: { woke_run: boolean; records: { status: string }[] };
    };
    expect(checked.status).toBe(200);
    expect(check.data.woke_run).toBe(false);
    expect(check.data.records.map((record) => record.status)).toEqual(['OK', 'OK', 'OK']);
  });

  it('verifies BYODKIM with a supplied key, which never reaches the history or the events', async () => {
    const key = rsaPrivateKeyBase64(2048);
    const started = await postIdentity(stack, {
      EmailIdentity: 'byo.example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 'sel1',
        DomainSigningPrivateKey: key.privateKey,
      },
    });
    expect(started.status).toBe(202);

    const terminal = await terminalEventOf(stack, 'byo.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    const [txt] = await recordSetsOf('sel1._domainkey.byo.example.com');
    const published = (txt?.ResourceRecords ?? []).map((record) => record.Value).join('');
    expect(published.replace(/"\s*"/g, '').replace(/"/g, '')).toContain(`p=${key.publicKey}`);
    const history = await stack.clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: started.body.data.execution_arn }),
    );
    expect(JSON.stringify(history.events)).not.toContain(key.privateKey);
    const events = await deliveredEventsOf(stack, 'byo.example.com');
    expect(JSON.stringify(events)).not.toContain(key.privateKey);
  });

  it('verifies BYODKIM with a key pair generated for the run', async () => {
    const started = await postIdentity(stack, {
      EmailIdentity: 'gen.example.com',
      DkimSigningAttributes: { DomainSigningSelector: 'gen1', GenerateDomainSigningKey: {} },
    });
    expect(started.status).toBe(202);

    const terminal = await terminalEventOf(stack, 'gen.example.com');

    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(terminal.detail.dkim).toMatchObject({ origin: 'EXTERNAL', selector: 'gen1' });
    const [txt] = await recordSetsOf('gen1._domainkey.gen.example.com');
    expect(txt?.Type).toBe('TXT');
  });

  it('verifies an address once the test follows the link in the sandbox mailbox', async () => {
    // Time stands still from the moment SES sends the message until the test has clicked.
    const mail = new Promise<() => void>((resolve) => {
      const unsubscribe = stack.emulators.ses.onMessage((message: MailboxMessage) => {
        if (message.to !== 'person@example.com') return;
        unsubscribe();
        resolve(stack.clock.hold());
      });
    });
    const started = await postIdentity(stack, { EmailIdentity: 'person@example.com' });
    expect(started.status).toBe(202);
    const release = await mail;

    const mailbox = await getJson<{ messages: { to: string; confirmationUrl: string }[] }>(
      `${stack.apiUrl}/sandbox/mailbox?to=person@example.com`,
    );
    expect(mailbox.body.messages).toHaveLength(1);
    const confirmation = await getJson<{ status: string }>(
      mailbox.body.messages[0]?.confirmationUrl ?? '',
    );
    release();
    const terminal = await terminalEventOf(stack, 'person@example.com');

    expect(confirmation.body.status).toBe('confirmed');
    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(terminal.detail.identity_type).toBe('EMAIL_ADDRESS');
  });

  it('verifies manual DNS once the test adds the records mid-run through the Route 53 API', async () => {
    const required = holdAtEvent(stack, 'manual.example.com', 'DNS Records Required');
    const started = await postIdentity(stack, {
      EmailIdentity: 'manual.example.com',
      Dns: { Provider: 'manual' },
    });
    expect(started.status).toBe(202);
    const { event, release } = await required;
    const records = event.detail.records as { type: string; name: string; value: string }[];
    expect(await recordSetsOf('_domainkey.manual.example.com')).toHaveLength(0);

    await stack.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: stack.emulators.zones.get('example.com')?.id,
        ChangeBatch: {
          Changes: records.map((record) => ({
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: record.name,
              Type: record.type as 'CNAME',
              TTL: 300,
              ResourceRecords: [{ Value: record.value }],
            },
          })),
        },
      }),
    );
    release();
    const terminal = await terminalEventOf(stack, 'manual.example.com');

    expect(records).toHaveLength(3);
    expect(terminal['detail-type']).toBe('Email Identity Verified');
    expect(terminal.detail.provider).toBe('manual');
  });

  it('wakes a sleeping run when a person checks now, and answers each record as DNS holds it', async () => {
    // BYODKIM with the person's own key: its TXT record is known, and in DNS, before the run.
    const key = rsaPrivateKeyBase64(1024);
    const change = await stack.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: stack.emulators.zones.get('example.com')?.id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'own._domainkey.checked.example.com',
                Type: 'TXT',
                TTL: 300,
                ResourceRecords: [{ Value: `"v=DKIM1; k=rsa; p=${key.publicKey}"` }],
              },
            },
          ],
        },
      }),
    );
    await waitUntilResourceRecordSetsChanged(
      { client: stack.clients.route53, maxWaitTime: 60, minDelay: 1 },
      { Id: change.ChangeInfo?.Id },
    );
    const asleep = holdWhenAsleep(stack, 'checked.example.com');
    const started = await postIdentity(stack, {
      EmailIdentity: 'checked.example.com',
      DkimSigningAttributes: {
        DomainSigningSelector: 'own',
        DomainSigningPrivateKey: key.privateKey,
      },
      Dns: { Provider: 'manual' },
    });
    expect(started.status).toBe(202);

    // Asleep, its token in the registry: the check finds the record and wakes the run.
    const release = await asleep;
    const response = await fetch(`${stack.apiUrl}/identities/checked.example.com/check`, {
      method: 'POST',
    });
    const check = (await response.json()) as {
      data: { woke_run: boolean; records: { type: string; status: string }[] };
    };
    release();
    const terminal = await terminalEventOf(stack, 'checked.example.com');

    expect(response.status).toBe(200);
    expect(check.data).toMatchObject({ woke_run: true, records: [{ type: 'TXT', status: 'OK' }] });
    expect(terminal['detail-type']).toBe('Email Identity Verified');
  });

  it('answers a repeated identical POST with the same id and starts no second run', async () => {
    const body = { EmailIdentity: 'twice.example.com', Tags: [{ Key: 'team', Value: 'mail' }] };
    const first = await postIdentity(stack, body);
    const second = await postIdentity(stack, body);
    await terminalEventOf(stack, 'twice.example.com');

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.data.id).toBe(first.body.data.id);
    const listed = await stack.clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachine.arn }),
    );
    const runs = (listed.executions ?? []).filter((execution) =>
      execution.name?.startsWith('twice_example_com'),
    );
    expect(runs).toHaveLength(1);
    const terminals = (await deliveredEventsOf(stack, 'twice.example.com')).filter((event) =>
      TERMINAL_DETAIL_TYPES.includes(event['detail-type']),
    );
    expect(terminals).toHaveLength(1);
  });
});
