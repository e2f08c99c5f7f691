/** `npm run validate:asl`: asl-validator plus our own checks on the state machine definition. */
import { readFileSync } from 'node:fs';
import { aslProblems, type Definition } from './asl-checks.js';
import { ASL_SOURCE, isUpToDate } from './build-asl.js';

const file = 'statemachine/verify-email-identity.asl.json';
// The file must be valid JSON before substitution: placeholders live inside strings only.
const definition = JSON.parse(readFileSync(file, 'utf8')) as Definition;
const problems = aslProblems(definition);
if (!isUpToDate()) problems.push(`is not what ${ASL_SOURCE} generates: run npm run build:asl`);
if (problems.length > 0) {
  console.error(`${file}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${file}: valid (${Object.keys(definition.States).length} states)`);
