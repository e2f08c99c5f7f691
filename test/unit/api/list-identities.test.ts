import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The handler reads its table, and its DynamoDB client its endpoint, as it loads.
const registry = await vi.hoisted(async () => {
  const { startRegistryTable } = await import('#test/support/registry-table.js');
  return startRegistryTable();
});

import { handler } from '#api/list-identities/handler.js';
import { claimIdentity, storeTaskToken } from '#shared/registry/registry.js';
import {
  clearRegistryTable,
  endRunInRegistry,
  pendingRun,
  REGISTRY_TABLE,
} from '#test/support/registry-table.js';
import { apiEvent, bodyOf, lambdaContext } from './support.js';

const START = new Date('2026-12-01T10:00:00.000Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

/** GET /identities with a query string, as API Gateway hands it over (decoded). */
function listEvent(query?: Record<string, string>): APIGatewayProxyEventV2 {
  const event = apiEvent('api-get-identity-status.json');
  return {
    ...event,
    routeKey: 'GET /identities',
    rawPath: '/identities',
    rawQueryString: new URLSearchParams(query).toString(),
    pathParameters: undefined,
    queryStringParameters: query,
  };
}

const list = async (query?: Record<string, string>) => handler(listEvent(query), lambdaContext);

/** The fleet the tests list: identity → how its run ended (PENDING: still going), and when. */
const FLEET: [string, 'PENDING' | 'VERIFIED' | 'FAILED', number][] = [
  ['alpha.example.com', 'VERIFIED', 1],
  ['bravo.example.com', 'PENDING', 2],
  ['charlie.example.com', 'VERIFIED', 3],
  ['delta.example.com', 'FAILED', 4],
  ['echo.example.com', 'VERIFIED', 5],
  ['ops@foxtrot.example.com', 'PENDING', 6],
];

afterAll(async () => {
  await registry.close();
});

describe('ListIdentities (GET /identities)', () => {
  beforeAll(async () => {
    await clearRegistryTable();
    for (const [identity, status, minute] of FLEET) {
      const type = identity.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN';
      const runId = `run-${minute}`;
      await claimIdentity(REGISTRY_TABLE, identity, type, pendingRun(runId, at(0)), at(0));
      if (status === 'PENDING') {
        await storeTaskToken(REGISTRY_TABLE, identity, runId, `token-${minute}`, at(minute));
      } else {
        await endRunInRegistry(identity, runId, status, at(minute));
      }
    }
  });

  it('lists every identity by name, each with its status and latest run', async () => {
    const response = await list();

    expect(response.statusCode).toBe(200);
    const { data } = bodyOf(response);
    expect(data.next_token).toBeNull();
    expect(data.items.map((item: { identity: string }) => item.identity)).toEqual(
      FLEET.map(([identity]) => identity).sort(),
    );
    expect(data.items[0]).toEqual({
      identity: 'alpha.example.com',
      identity_type: 'DOMAIN',
      status: 'VERIFIED',
      dkim_status: null,
      updated_at: at(1).toISOString(),
      latest_run: {
        id: 'run-1',
        execution_arn: pendingRun('run-1', at(0)).execution_arn,
        operation: 'CreateIdentity',
        status: 'VERIFIED',
        started_at: at(0).toISOString(),
        ended_at: at(1).toISOString(),
        console_url: expect.stringMatching(
          /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\/home\?region=us-east-1#\/v2\/executions\/details\/arn:aws:states:.*:run-1$/,
        ),
        reason: null,
      },
    });
  });

  it("never shows a waiting run's task token", async () => {
    const response = await list({ status: 'PENDING' });

    expect(bodyOf(response).data.items).toHaveLength(2);
    expect(response.body).not.toContain('token-');
    expect(response.body).not.toContain('task_token');
  });

  it('lists one status, most recent change first', async () => {
    const { data } = bodyOf(await list({ status: 'VERIFIED' }));

    expect(data.items.map((item: { identity: string }) => item.identity)).toEqual([
      'echo.example.com',
      'charlie.example.com',
      'alpha.example.com',
    ]);
  });

  it('answers an empty page for a status no identity has', async () => {
    expect(bodyOf(await list({ status: 'DEGRADED' })).data).toEqual({
      items: [],
      next_token: null,
    });
  });

  it.each([
    ['by name', {}, FLEET.length],
    ['under a status', { status: 'VERIFIED' }, 3],
  ])(
    'pages %s with limit and next_token, each identity once, the last page saying so',
    async (_how, filter, total) => {
      const seen: string[] = [];
      const pages: number[] = [];
      let nextToken: string | null = null;
      do {
        const query: Record<string, string> = { ...filter, limit: '2' };
        if (nextToken !== null) query.next_token = nextToken;
        const response = await list(query);
        expect(response.statusCode).toBe(200);
        const { data } = bodyOf(response);
        seen.push(...data.items.map((item: { identity: string }) => item.identity));
        pages.push(data.items.length);
        nextToken = data.next_token;
      } while (nextToken !== null && pages.length < 10);

      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect(pages.slice(0, -1).every((size) => size === 2)).toBe(true);
    },
  );

  describe('refusals', () => {
    it.each([
      ['an unknown status', { status: 'ACTIVE' }, 'status', /must be one of PENDING, VERIFIED/],
      ['a lower-case status', { status: 'verified' }, 'status', /must be one of/],
      ['a limit of 0', { limit: '0' }, 'limit', /from 1 to 100/],
      ['a limit over 100', { limit: '101' }, 'limit', /from 1 to 100/],
      ['a limit that is not a number', { limit: 'ten' }, 'limit', /whole number/],
      ['a fractional limit', { limit: '1.5' }, 'limit', /whole number/],
      ['a negative limit', { limit: '-1' }, 'limit', /whole number/],
      ['an empty next_token', { next_token: '' }, 'next_token', /must not be empty/],
      [
        'a next_token no page handed out',
        { next_token: 'bm90IGEgdG9rZW4' },
        'next_token',
        /not a token a previous page of this listing returned/,
      ],
      ['an unknown parameter', { state: 'PENDING' }, '"state"', /not a known parameter/],
      ['a mis-cased parameter', { Limit: '10' }, '"Limit"', /not a known parameter/],
    ])('returns 400 VALIDATION_ERROR for %s, naming it', async (_what, query, field, message) => {
      const response = await list(query);

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: [{ field, message: expect.stringMatching(message) }],
      });
    });

    it('lists every problem at once', async () => {
      const response = await list({ status: 'NOPE', limit: '1000', colour: 'blue' });

      expect(
        bodyOf(response)
          .error.details.map((d: { field: string }) => d.field)
          .sort(),
      ).toEqual(['"colour"', 'limit', 'status']);
    });

    it('does not echo a long parameter name, which could be anything a caller pasted', async () => {
      const pasted = 'MIIEowIBAAKCAQEAx7yq0d3kz9Tf2w';

      const response = await list({ [pasted]: '1' });

      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain(pasted.slice(0, 16));
    });

    it('returns 400 for a next_token of one listing used with another', async () => {
      const byName = bodyOf(await list({ limit: '1' })).data.next_token;

      const response = await list({ status: 'VERIFIED', next_token: byName });

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response).error.details).toEqual([
        { field: 'next_token', message: expect.stringContaining('not a token') },
      ]);
    });
  });
});
