/** What the emulated SES's parts share: its errors, tags and list pages. */
import { AwsServiceError } from './wire.js';

export interface Tag {
  Key: string;
  Value: string;
}

export const badRequest = (message: string) =>
  new AwsServiceError('BadRequestException', message, 400);

export const notFound = (message: string) => new AwsServiceError('NotFoundException', message, 404);

export const alreadyExists = (message: string) =>
  new AwsServiceError('AlreadyExistsException', message, 400);

/** SES's names of configuration sets and tenants: 1-64 letters, digits, `_` and `-`. */
export const RESOURCE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A resource name from a request, or BadRequestException naming the field. */
export function resourceName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !RESOURCE_NAME.test(value)) {
    throw badRequest(`${field} must be 1-64 letters, digits, underscores and hyphens.`);
  }
  return value;
}

/** Tags as SES checks them: at most 50, keys 1-128 characters without `aws:`, unique. */
export function validateTags(tags: unknown): Tag[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw badRequest('Tags must be a list.');
  if (tags.length > 50) throw badRequest('Too many tags: at most 50 are allowed.');
  const keys = new Set<string>();
  return tags.map((raw) => {
    const tag = (raw ?? {}) as Record<string, unknown>;
    const key = tag.Key;
    const value = tag.Value ?? '';
    if (
      typeof key !== 'string' ||
      key.length < 1 ||
      key.length > 128 ||
      key.toLowerCase().startsWith('aws:')
    ) {
      throw badRequest(`Invalid tag key: ${String(key)}`);
    }
    if (typeof value !== 'string' || value.length > 256)
      throw badRequest(`Invalid value for tag ${key}.`);
    if (keys.has(key)) throw badRequest(`Duplicate tag key: ${key}`);
    keys.add(key);
    return { Key: key, Value: value };
  });
}

/**
 * One page of a listing: `PageSize` items after `NextToken` (the key of the last item of the
 * previous page, opaque to the caller), as SES's list operations page.
 */
export function pageOf<T>(
  items: T[],
  keyOf: (item: T) => string,
  request: { PageSize?: unknown; NextToken?: unknown },
  limits: { fallback: number; max: number },
): { page: T[]; nextToken: string | undefined } {
  const pageSize =
    request.PageSize === undefined || request.PageSize === null
      ? limits.fallback
      : Number(request.PageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > limits.max) {
    throw badRequest(`PageSize must be between 1 and ${limits.max}.`);
  }
  let start = 0;
  if (typeof request.NextToken === 'string' && request.NextToken !== '') {
    const after = Buffer.from(request.NextToken, 'base64url').toString('utf8');
    start = items.findIndex((item) => keyOf(item) === after) + 1;
    if (start === 0) throw badRequest('Invalid NextToken.');
  }
  const page = items.slice(start, start + pageSize);
  const last = page.at(-1);
  return {
    page,
    nextToken:
      last !== undefined && start + pageSize < items.length
        ? Buffer.from(keyOf(last)).toString('base64url')
        : undefined,
  };
}
