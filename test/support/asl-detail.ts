import { readFileSync } from 'node:fs';

const definition = JSON.parse(
  readFileSync(
    new URL('../../statemachine/verify-email-identity.asl.json', import.meta.url),
    'utf8',
  ),
) as { States: Record<string, { Parameters?: { Entries?: { Detail?: unknown }[] } }> };

function resolvePath(path: string, data: unknown): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], data);
}

/**
 * The event detail a notification state of the real definition builds from `data` (its JSONPath
 * `"field.$": "$.a.b"` template), so that step tests check their output against the schema of
 * the event it actually becomes.
 */
export function eventDetailOf(stateName: string, data: Record<string, unknown>): unknown {
  const template = definition.States[stateName]?.Parameters?.Entries?.[0]?.Detail;
  if (!template || typeof template !== 'object') throw new Error(`${stateName} builds no Detail`);
  return fill(template as Record<string, unknown>, data);
}

/** A template object with each `"field.$"` path resolved, nested objects (`readiness`) too. */
function fill(template: Record<string, unknown>, data: Record<string, unknown>): unknown {
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) =>
      key.endsWith('.$')
        ? [key.slice(0, -2), resolvePath(String(value), data)]
        : [
            key,
            typeof value === 'object' && value !== null && !Array.isArray(value)
              ? fill(value as Record<string, unknown>, data)
              : value,
          ],
    ),
  );
}
