import { IDENTITY_STATUSES, type IdentityStatus } from '#shared/registry/items.js';
import { InvalidPageTokenError, listIdentities } from '#shared/registry/registry.js';
import { type LatestRun, latestRunOf } from '#shared/registry/views.js';
import { quoted } from '#shared/request/quote.js';
import { type FieldIssue, ValidationError } from '#shared/workflow/errors.js';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 100;

/** One identity in the list. */
export interface IdentitySummary {
  identity: string;
  identity_type: string;
  status: IdentityStatus;
  dkim_status: string | null;
  updated_at: string;
  latest_run: LatestRun | null;
}

/** The `data` of a 200 response. */
export interface IdentityList {
  items: IdentitySummary[];
  /** Pass as `next_token` for the next page; null on the last one. */
  next_token: string | null;
}

/**
 * GET /identities?status=&limit=&next_token=: one page of the identities the stack manages,
 * from the registry's indexes (newest change first under a status, by name without one).
 */
export async function listIdentityPage(
  query: Record<string, string | undefined>,
  registryTable: string,
): Promise<IdentityList> {
  const options = parseQuery(query);
  try {
    const page = await listIdentities(registryTable, options);
    return {
      items: page.items.map((item) => ({
        identity: item.identity,
        identity_type: item.identity_type,
        status: item.status,
        dkim_status: item.dkim_status,
        updated_at: item.updated_at,
        latest_run: item.latest_run ? latestRunOf(item.latest_run) : null,
      })),
      next_token: page.next_token,
    };
  } catch (error) {
    if (error instanceof InvalidPageTokenError) {
      throw new ValidationError([{ field: 'next_token', message: error.message }]);
    }
    throw error;
  }
}

const KNOWN = new Set(['status', 'limit', 'next_token']);

function parseQuery(query: Record<string, string | undefined>): {
  status?: IdentityStatus;
  limit: number;
  nextToken?: string;
} {
  const issues: FieldIssue[] = [];
  for (const name of Object.keys(query)) {
    if (!KNOWN.has(name)) issues.push({ field: quoted(name), message: 'is not a known parameter' });
  }
  const { status, limit: rawLimit, next_token: nextToken } = query;
  if (status !== undefined && !(IDENTITY_STATUSES as readonly string[]).includes(status)) {
    issues.push({ field: 'status', message: `must be one of ${IDENTITY_STATUSES.join(', ')}` });
  }
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    limit = Number(rawLimit);
    if (!/^[0-9]{1,3}$/.test(rawLimit) || limit < 1 || limit > MAX_LIMIT) {
      issues.push({ field: 'limit', message: `must be a whole number from 1 to ${MAX_LIMIT}` });
    }
  }
  if (nextToken === '') issues.push({ field: 'next_token', message: 'must not be empty' });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    ...(status !== undefined && { status: status as IdentityStatus }),
    limit,
    ...(nextToken !== undefined && { nextToken }),
  };
}
