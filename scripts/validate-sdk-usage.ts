/**
 * Which AWS API actions a Lambda's code can call: the `XxxCommand`s it imports from
 * `@aws-sdk/client-*`, in its handler and every local module the handler reaches. The template
 * check compares them with the function's IAM policy both ways.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** IAM service prefix of each SDK client package we use. */
export const IAM_PREFIX_OF_CLIENT: Record<string, string> = {
  '@aws-sdk/client-sesv2': 'ses',
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-eventbridge': 'events',
};

/**
 * Actions IAM evaluates on top of the API's own action. CreateSecret and CreateEmailIdentity
 * with Tags also need TagResource (the service authorisation reference's "dependent actions").
 */
export const DEPENDENT_ACTIONS: Record<string, string[]> = {
  'secretsmanager:CreateSecret': ['secretsmanager:TagResource'],
  'ses:CreateEmailIdentity': ['ses:TagResource'],
};

const IMPORT_FROM = /(?:^|\n)\s*(import|export)\s+(type\s+)?([\s\S]*?)\s+from\s+['"]([^'"]+)['"]/g;
const BARE_IMPORT = /(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** package.json's subpath imports (`#shared/*` → `./functions/shared/*`), read once. */
const SUBPATH_IMPORTS = Object.entries(
  (JSON.parse(readFileSync('package.json', 'utf8')) as { imports?: Record<string, string> })
    .imports ?? {},
);

/** `#shared/dns/records.js` → `./functions/shared/dns/records.js`; undefined when no rule maps it. */
function expandSubpath(specifier: string): string | undefined {
  for (const [pattern, target] of SUBPATH_IMPORTS) {
    const prefix = pattern.replace(/\*$/, '');
    if (pattern.endsWith('*') && specifier.startsWith(prefix)) {
      return target.replace(/\*$/, specifier.slice(prefix.length));
    }
    if (specifier === pattern) return target;
  }
  return undefined;
}

/**
 * Resolves a local specifier (`./x.js`, `../y.js`, `./dir`, or a subpath import such as
 * `#shared/dns/records.js`) to the .ts file it means.
 */
function resolveLocal(fromFile: string, specifier: string): string | undefined {
  const expanded = specifier.startsWith('#') ? expandSubpath(specifier) : specifier;
  if (expanded === undefined) return undefined;
  const base = specifier.startsWith('#') ? resolve(expanded) : resolve(dirname(fromFile), expanded);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

/** Every local .ts module a file reaches through import and export-from, the file included. */
export function localModulesOf(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      // `import type` is erased before bundling: it brings no code, so no commands.
      ...[...source.matchAll(IMPORT_FROM)].filter((m) => !m[2]).map((m) => m[4] as string),
      ...[...source.matchAll(BARE_IMPORT)].map((m) => m[1] as string),
    ];
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.') && !specifier.startsWith('#')) continue;
      const target = resolveLocal(file, specifier);
      if (target === undefined) throw new Error(`${file}: cannot resolve import '${specifier}'`);
      queue.push(target);
    }
  }
  return [...seen].sort();
}

/** The SDK command names a module imports as values, by client package. */
export function sdkCommandsIn(source: string): { client: string; command: string }[] {
  const found: { client: string; command: string }[] = [];
  for (const match of source.matchAll(IMPORT_FROM)) {
    const [, keyword, typeOnly, clause = '', from = ''] = match;
    if (keyword !== 'import' || typeOnly || !from.startsWith('@aws-sdk/client-')) continue;
    const names = /\{([\s\S]*)\}/.exec(clause)?.[1] ?? '';
    for (const raw of names.split(',')) {
      const name = raw.trim();
      if (name === '' || name.startsWith('type ')) continue;
      const imported = name.split(/\s+as\s+/)[0]?.trim() ?? '';
      if (/^[A-Z][A-Za-z0-9]*Command$/.test(imported))
        found.push({ client: from, command: imported });
    }
  }
  return found;
}

export interface FunctionSdkUsage {
  /** The IAM actions the code's commands map to, e.g. `ses:GetEmailIdentity`, sorted. */
  actions: string[];
  /** Where each action comes from (module path relative to the root). */
  sources: Record<string, string[]>;
  /** Dependent actions the used actions need, e.g. `secretsmanager:TagResource`. */
  dependent: string[];
}

/** The IAM actions a function's code can call, from its handler and its local imports. */
export function sdkUsageOf(handlerFile: string, root = process.cwd()): FunctionSdkUsage {
  const sources: Record<string, string[]> = {};
  for (const file of localModulesOf(handlerFile)) {
    for (const { client, command } of sdkCommandsIn(readFileSync(file, 'utf8'))) {
      const prefix = IAM_PREFIX_OF_CLIENT[client];
      if (prefix === undefined) {
        throw new Error(
          `${file}: no IAM prefix known for ${client}; add it to IAM_PREFIX_OF_CLIENT`,
        );
      }
      const action = `${prefix}:${command.replace(/Command$/, '')}`;
      const list = sources[action] ?? [];
      list.push(relative(root, file));
      sources[action] = list;
    }
  }
  const actions = Object.keys(sources).sort();
  const dependent = [
    ...new Set(actions.flatMap((action) => DEPENDENT_ACTIONS[action] ?? [])),
  ].sort();
  return { actions, sources, dependent };
}
