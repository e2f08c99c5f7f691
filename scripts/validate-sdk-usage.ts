/**
 * Which AWS API actions a Lambda's code can call: the `XxxCommand` classes of
 * `@aws-sdk/client-*` that remain in its handler's bundle once esbuild has shaken out what the
 * handler never reaches. A module may hold several operations (the key secret's read, store
 * and delete live together); only those a function's code path uses end up in its bundle, so
 * each function is granted exactly what it can call. The template check compares the result
 * with the function's IAM policy both ways.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { functionFolders } from './lib/function-folders.js';

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

/** A command module of an SDK client, as esbuild names its input: one file per command. */
const COMMAND_MODULE =
  /(?:^|\/)node_modules\/(@aws-sdk\/client-[^/]+)\/dist-es\/commands\/([A-Z][A-Za-z0-9]*)Command\.js$/;

type Inputs = Metafile['inputs'];

/**
 * The handlers' bundles as esbuild builds them for Lambda (scripts/build.ts: ESM, the SDK
 * bundled, packages' ES module entry points so that their unused exports can be dropped), in
 * memory, in one build (shared modules are parsed once). Unminified: minifying changes names,
 * not which modules are kept. Returns, by handler, the modules that contributed code to its
 * bundle: one tree-shaken to nothing is still listed in the metafile, with 0 bytes.
 */
function bundleInputs(handlerFiles: string[]): Map<string, Inputs> {
  const result = buildSync({
    entryPoints: handlerFiles,
    bundle: true,
    write: false,
    metafile: true,
    outdir: 'bundles',
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const byHandler = new Map<string, Inputs>();
  for (const output of Object.values(result.metafile.outputs)) {
    if (output.entryPoint === undefined) continue;
    const kept = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
    byHandler.set(
      resolve(output.entryPoint),
      Object.fromEntries(
        kept.map(([path]) => [path, result.metafile.inputs[path] as Inputs[string]]),
      ),
    );
  }
  return byHandler;
}

let everyFunction: Map<string, Inputs> | undefined;

/** The bundle inputs of a handler, from one build of every function's handler (made once). */
function inputsOf(handlerFile: string): Inputs {
  everyFunction ??= bundleInputs(functionFolders().map((folder) => join(folder, 'handler.ts')));
  const path = resolve(handlerFile);
  const inputs = everyFunction.get(path) ?? bundleInputs([handlerFile]).get(path);
  if (inputs === undefined) throw new Error(`${handlerFile}: esbuild produced no bundle`);
  return inputs;
}

export interface FunctionSdkUsage {
  /** The IAM actions the code's commands map to, e.g. `ses:GetEmailIdentity`, sorted. */
  actions: string[];
  /** Where each action comes from: our modules in the bundle that import its command. */
  sources: Record<string, string[]>;
  /** Dependent actions the used actions need, e.g. `secretsmanager:TagResource`. */
  dependent: string[];
}

/** The IAM actions a function's code can call: the SDK commands left in its handler's bundle. */
export function sdkUsageOf(handlerFile: string, root = process.cwd()): FunctionSdkUsage {
  const inputs = inputsOf(handlerFile);
  const paths = Object.keys(inputs);
  const ourModules = paths.filter((path) => !path.includes('node_modules/'));
  const sources: Record<string, string[]> = {};
  for (const path of paths) {
    const match = COMMAND_MODULE.exec(path);
    if (match === null) continue;
    const [, client = '', command = ''] = match;
    const prefix = IAM_PREFIX_OF_CLIENT[client];
    if (prefix === undefined) {
      throw new Error(
        `${handlerFile}: its bundle holds ${command}Command of ${client}, whose IAM prefix is unknown; add it to IAM_PREFIX_OF_CLIENT`,
      );
    }
    const importers = ourModules.filter((module) =>
      new RegExp(`\\b${command}Command\\b`).test(readFileSync(resolve(root, module), 'utf8')),
    );
    sources[`${prefix}:${command}`] = importers.map((module) =>
      relative(root, resolve(root, module)),
    );
  }
  const actions = Object.keys(sources).sort();
  const dependent = [
    ...new Set(actions.flatMap((action) => DEPENDENT_ACTIONS[action] ?? [])),
  ].sort();
  return { actions, sources, dependent };
}
