import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

const schemaDir = join(import.meta.dirname, '../../docs/events');

// One compiled validator per detail-type, keyed by the schema's title ("DNS Records Published").
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, file), 'utf8')));
}
for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))) {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as {
    $id: string;
    title: string;
  };
  if (file === 'common.schema.json') continue;
  const validate = ajv.getSchema(schema.$id);
  if (!validate) throw new Error(`Schema ${file} did not compile`);
  validators.set(schema.title, validate);
}

/** The detail-types that have a schema in docs/events. */
export const documentedDetailTypes = (): string[] => [...validators.keys()];

/** Fails the test unless `detail` matches the JSON Schema of its detail-type. */
export function expectValidDetail(detailType: string, detail: unknown): void {
  const validate = validators.get(detailType);
  expect(validate, `no schema in docs/events for "${detailType}"`).toBeDefined();
  const valid = validate?.(detail);
  expect(valid, `${detailType}: ${ajv.errorsText(validate?.errors)}`).toBe(true);
}
