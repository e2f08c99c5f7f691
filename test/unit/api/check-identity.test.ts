import {
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The handler reads its table and probe settings, and its DynamoDB client its endpoint, as it
// loads. Its look-ups go over the wire to a real DNS server that holds one record right, one
// wrong, and lacks the third.
const { registry, dns } = await vi.hoisted(async () => {
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  const { startDnsServer } = await import('#test/support/dns-server.js');
  const dns = await startDnsServer({
    'tokena._domainkey.mail.example.com': { CNAME: ['tokena.dkim.amazonses.com'] },
    'tokenb._domainkey.mail.example.com': { CNAME: ['tokenb.dkim.example.net'] },
  });
  process.env.DNS_RESOLVERS = dns.address;
  process.env.DNS_QUERY_AUTHORITATIVE = 'false';
  return { registry: await startRegistryTable(), dns };
});

import { handler } from '#api/check-identity/handler.js';
import type { RegistryItem } from '#shared/registry/items.js';
import { useClock } from '#shared/runtime/clock.js';
import { cnameRecords } from '#test/support/fixtures.js';
import {
  clearRegistryTable,
  pendingRun,
  putRegistryItem,
  registryItem,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, lambdaContext, sdkError } from './support.js';

const NOW = new Date('2026-12-01T10:30:00.000Z');
const STARTED = new Date('2026-12-01T10:00:00.000Z');
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAd1the-waiting-runs-task-token';
const records = cnameRecords('mail.example.com');

/** POST /identities/{identity}/check, as API Gateway hands it over. */
function checkEvent(identity: string): APIGatewayProxyEventV2 {
  const event = apiEvent('api-get-identity-status.json');
  return {
    ...event,
    routeKey: 'POST /identities/{identity}/check',
    rawPath: `/identities/${identity}/check`,
    pathParameters: { identity },
    body: undefined,
  };
}

/** The registry item of an identity whose run has published its records. */
function managedItem(overrides: Partial<RegistryItem> = {}): RegistryItem {
  return {
    identity: 'mail.example.com',
    kind: 'IDENTITY',
    identity_type: 'DOMAIN',
    status: 'PENDING',
    dkim_status: 'PENDING',
    created_at: STARTED.toISOString(),
    updated_at: STARTED.toISOString(),
    active_run_id: 'run-1',
    latest_run: pendingRun('run-1', STARTED),
    records_json: JSON.stringify(records),
    ...overrides,
  };
}

afterAll(async () => {
  await Promise.all([registry.close(), dns.close()]);
});

describe('CheckIdentity (POST /identities/{identity}/check)', () => {
  const sfn = mockClient(SFNClient);

  beforeEach(async () => {
    sfn.reset();
    await clearRegistryTable();
    dns.questions.length = 0;
    useClock({ now: () => NOW });
    sfn.on(SendTaskSuccessCommand).resolves({});
  });
  afterEach(() => {
    useClock();
  });

  describe('an identity whose run waits', () => {
    beforeEach(async () => {
      await putRegistryItem(managedItem({ task_token: TOKEN }));
    });

    it('answers record by record what DNS holds now, and wakes the run', async () => {
      const response = await handler(checkEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toEqual({
        success: true,
        data: {
          identity: 'mail.example.com',
          status: 'PENDING',
          dkim_status: 'PENDING',
          records: [
            {
              name: 'tokena._domainkey.mail.example.com',
              type: 'CNAME',
              value: 'tokena.dkim.amazonses.com',
              status: 'OK',
              found: null,
              detail: null,
            },
            {
              name: 'tokenb._domainkey.mail.example.com',
              type: 'CNAME',
              value: 'tokenb.dkim.amazonses.com',
              status: 'WRONG_VALUE',
              found: 'tokenb.dkim.example.net',
              detail: expect.any(String),
            },
            {
              name: 'tokenc._domainkey.mail.example.com',
              type: 'CNAME',
              value: 'tokenc.dkim.amazonses.com',
              status: 'MISSING',
              found: null,
              detail: 'the name does not exist (NXDOMAIN)',
            },
          ],
          woke_run: true,
          checked_at: NOW.toISOString(),
        },
      });
      expect(dns.questions).toEqual(
        expect.arrayContaining(records.map((record) => `CNAME ${record.name}`)),
      );
    });

    it('hands the run its token with "check now" as the reason, once', async () => {
      await handler(checkEvent('mail.example.com'), lambdaContext);

      expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
      expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
        taskToken: TOKEN,
        output: JSON.stringify({ woken_by: 'check_now', ses_status: null }),
      });
      expect((await registryItem('mail.example.com'))?.task_token).toBeUndefined();
    });

    it('keeps the probe in the registry, for GET to show', async () => {
      const response = await handler(checkEvent('mail.example.com'), lambdaContext);

      const item = await registryItem('mail.example.com');
      expect(item?.checked_at).toBe(NOW.toISOString());
      expect(JSON.parse(item?.probe_json ?? '[]').map((r: { status: string }) => r.status)).toEqual(
        bodyOf(response).data.records.map((r: { status: string }) => r.status),
      );
    });

    it('never shows the task token', async () => {
      const response = await handler(checkEvent('mail.example.com'), lambdaContext);

      expect(response.body).not.toContain(TOKEN);
    });

    it('normalises the identity in the path before looking it up', async () => {
      const response = await handler(checkEvent('Mail.Example.COM.'), lambdaContext);

      expect(bodyOf(response).data).toMatchObject({ identity: 'mail.example.com', woke_run: true });
    });

    it.each([
      ['timed out', new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
      ['ended', new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} })],
    ])(
      'reports woke_run false when the run stopped waiting meanwhile (%s)',
      async (_what, error) => {
        sfn.on(SendTaskSuccessCommand).rejects(error);

        const response = await handler(checkEvent('mail.example.com'), lambdaContext);

        expect(response.statusCode).toBe(200);
        expect(bodyOf(response).data.woke_run).toBe(false);
        expect((await registryItem('mail.example.com'))?.task_token).toBeUndefined();
      },
    );

    it('returns 429 THROTTLED and puts the token back when Step Functions throttles, for the next waker', async () => {
      sfn.on(SendTaskSuccessCommand).rejects(sdkError('ThrottlingException'));

      const response = await handler(checkEvent('mail.example.com'), lambdaContext);

      expect(response.statusCode).toBe(429);
      expect((await registryItem('mail.example.com'))?.task_token).toBe(TOKEN);
    });
  });

  it('answers woke_run false for an identity no run waits on, and looks at DNS all the same', async () => {
    await putRegistryItem(
      managedItem({ status: 'VERIFIED', active_run_id: undefined, dkim_status: 'SUCCESS' }),
    );

    const response = await handler(checkEvent('mail.example.com'), lambdaContext);

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response).data).toMatchObject({
      status: 'VERIFIED',
      dkim_status: 'SUCCESS',
      woke_run: false,
    });
    expect(bodyOf(response).data.records).toHaveLength(3);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('wakes the run of an address, which has no records to look at', async () => {
    await putRegistryItem(
      managedItem({
        identity: 'ops@example.com',
        identity_type: 'EMAIL_ADDRESS',
        dkim_status: null,
        records_json: undefined,
        task_token: TOKEN,
      }),
    );

    const response = await handler(checkEvent('ops@example.com'), lambdaContext);

    expect(bodyOf(response).data).toMatchObject({ records: [], woke_run: true });
    expect(dns.questions).toEqual([]);
    expect((await registryItem('ops@example.com'))?.checked_at).toBeUndefined();
  });

  it('returns 404 NOT_FOUND for an identity the stack does not manage, asking DNS nothing', async () => {
    const response = await handler(checkEvent('unknown.example.com'), lambdaContext);

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response).error).toEqual({
      code: 'NOT_FOUND',
      message: 'The stack does not manage unknown.example.com: start a run with POST /identities',
    });
    expect(dns.questions).toEqual([]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(await registryItem('unknown.example.com')).toBeUndefined();
  });

  it('returns 400 VALIDATION_ERROR for a path that names no identity', async () => {
    const response = await handler(checkEvent('not a domain'), lambdaContext);

    expect(response.statusCode).toBe(400);
    expect(
      bodyOf(response).error.details.every((d: { field: string }) => d.field === 'identity'),
    ).toBe(true);
  });
});
