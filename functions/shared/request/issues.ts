import type * as z from 'zod/mini';
import type { FieldIssue } from '#shared/workflow/errors.js';
import { formatCount, quoted } from './quote.js';

/**
 * At most this many problems are listed; a last entry says how many more there are. A response,
 * an event and a log line stay small whatever the request (20,000 empty tags, say).
 */
export const MAX_LISTED_ISSUES = 25;

// Field names of our own and SES's are short PascalCase identifiers; a name that is not one may
// be anything a caller pasted, so only a cut prefix of it is shown.
const PLAIN_FIELD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `Tags[3].Key`, `DkimSigningAttributes.DomainSigningSelector`, `Dns["a b…"]`; the request
 * itself is `(request)`.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let field = '';
  for (const part of path) {
    if (typeof part === 'number') field += `[${part}]`;
    else if (typeof part === 'string' && PLAIN_FIELD_NAME.test(part)) {
      field += `${field === '' ? '' : '.'}${part}`;
    } else field += `[${quoted(String(part))}]`;
  }
  return field === '' ? '(request)' : field;
}

/**
 * The first {@link MAX_LISTED_ISSUES} problems, and one more entry saying how many were left
 * out when there were more.
 */
export function capFieldIssues(issues: readonly FieldIssue[]): FieldIssue[] {
  if (issues.length <= MAX_LISTED_ISSUES) return [...issues];
  const more = issues.length - MAX_LISTED_ISSUES;
  return [
    ...issues.slice(0, MAX_LISTED_ISSUES),
    {
      field: '(request)',
      message: `and ${formatCount(more)} more problems (only the first ${MAX_LISTED_ISSUES} are listed)`,
    },
  ];
}

/** One detail per unknown field, named by its path; others keep zod's path and our message. */
export function toFieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: fieldPath([...issue.path, key]),
          message: 'is not a known field',
        }))
      : [{ field: fieldPath(issue.path), message: issue.message }],
  );
}
