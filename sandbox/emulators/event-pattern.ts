/**
 * EventBridge's event pattern matching, for the rules the sandbox's EventBridge applies (and the
 * template checks): every field of the pattern must match; a leaf is a list of conditions, any
 * of which may match; a condition is a value (equal, or contained in an array value), or
 * `{exists}`, `{prefix}`, `{suffix}`, `{"anything-but": ...}`, `{"equals-ignore-case"}`; `$or`
 * takes alternatives. EventBridge matches on the event flattened to leaf paths, which is why
 * `exists: false` holds for an event that lacks the field's parent object too.
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
  if (condition !== null && typeof condition === 'object') {
    const [operator, operand] = Object.entries(condition)[0] ?? [];
    if (operator === 'exists') return operand === (value !== undefined);
    const values = Array.isArray(value) ? value : [value];
    return values.some((one) => matchesOperator(String(operator), operand, one));
  }
  return Array.isArray(value) ? value.includes(condition) : value === condition;
}

function matchesOperator(operator: string, operand: unknown, value: unknown): boolean {
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && value.startsWith(String(operand));
    case 'suffix':
      return typeof value === 'string' && value.endsWith(String(operand));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(operand).toLowerCase();
    case 'anything-but': {
      if (value === undefined) return false;
      if (operand !== null && typeof operand === 'object' && !Array.isArray(operand)) {
        const [inner, innerOperand] = Object.entries(operand)[0] ?? [];
        return !matchesOperator(String(inner), innerOperand, value);
      }
      return !(Array.isArray(operand) ? operand : [operand]).includes(value);
    }
    default:
      throw new Error(`The sandbox's EventBridge does not match "${operator}" patterns`);
  }
}
