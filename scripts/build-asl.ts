/**
 * Generates statemachine/verify-email-identity.asl.json from its YAML source, where the retry and
 * catch policies are named once (YAML anchors) and used by alias in every Task. The JSON is what
 * template.yaml deploys and what the sandbox and the tests run; it is checked in, so that a reader
 * and a deployment never need this step, and `npm run validate:asl` fails when it is stale.
 *
 * `npm run build:asl` writes the JSON; `--check` only compares.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';

export const ASL_SOURCE = 'statemachine/verify-email-identity.asl.yaml';
export const ASL_FILE = 'statemachine/verify-email-identity.asl.json';

/** The ASL the YAML source describes: aliases expanded, the `.presets` section left out. */
export function definitionFromSource(path = ASL_SOURCE): Record<string, unknown> {
  const source = parse(readFileSync(path, 'utf8'), { maxAliasCount: -1 }) as Record<
    string,
    unknown
  >;
  return Object.fromEntries(Object.entries(source).filter(([key]) => !key.startsWith('.')));
}

/** True when the checked-in JSON is exactly what the source generates (as data, not text). */
export function isUpToDate(): boolean {
  return isDeepStrictEqual(JSON.parse(readFileSync(ASL_FILE, 'utf8')), definitionFromSource());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    if (!isUpToDate()) {
      console.error(`${ASL_FILE} is not what ${ASL_SOURCE} generates: run npm run build:asl`);
      process.exit(1);
    }
  } else {
    writeFileSync(ASL_FILE, `${JSON.stringify(definitionFromSource(), null, 2)}\n`);
    // Formatted as the rest of the repository is, so the diff of a change shows only the change.
    const biome = spawnSync('npx', ['biome', 'format', '--write', ASL_FILE], { stdio: 'inherit' });
    if (biome.status !== 0) process.exit(biome.status ?? 1);
    console.log(`${ASL_FILE} generated from ${ASL_SOURCE}`);
  }
}
