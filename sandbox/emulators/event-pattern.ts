/**
 * A small model of EventBridge pattern matching, enough for the template's rules: lists of exact
 * values, `exists` on leaf fields (a field under a missing parent does not exist), and `$or`.
 * EventBridge matches on the event flattened to leaf paths, which is why `exists: false` holds
 * for an event that lacks the field's parent object too.
 */
type Pattern = { [key: string]: unknown };

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or')
      return (rule as Pattern[]).some((alternative) => matchesPattern(alternative, event));
    const value = (event as Record<string, unknown> | null | undefined)?.[key];
    if (Array.isArray(rule)) return rule.some((condition) => matchesCondition(condition, value));
    return matchesPattern(rule as Pattern, value ?? undefined);
  });
}

function matchesCondition(condition: unknown, value: unknown): boolean {
  if (condition !== null && typeof condition === 'object' && 'exists' in condition) {
    return (condition as { exists: boolean }).exists === (value !== undefined);
  }
  return Array.isArray(value) ? value.includes(condition) : value === condition;
}
