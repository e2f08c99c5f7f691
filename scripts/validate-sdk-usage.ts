/**
 * Which AWS API actions a Lambda's code can call: the `XxxCommand` classes of
 * `@aws-sdk/client-*` that its handler's bundle still imports once esbuild has shaken out the
 * code the handler never reaches. A module may hold several operations (the key secret's read,
 * store and delete live together); only those a function's code path uses stay in its bundle,
 * so each function is granted exactly what it can call. The template check compares the result
 * with the function's IAM policy both ways.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { functionFolders } from './lib/function-folders.js';

/** IAM service prefix of each SDK client package we use. */
export const IAM_PREFIX_OF_CLIENT: Record<string, string> = {
  '@aws-sdk/client-sesv2': 'ses',
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-sqs': 'sqs',
};

/**
 * The document client's commands (`@aws-sdk/lib-dynamodb`) are DynamoDB operations under
 * shorter names: UpdateCommand is UpdateItem.
 */
const DOCUMENT_CLIENT_OPERATIONS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  Query: 'Query',
  Scan: 'Scan',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

/**
 * Actions IAM evaluates on top of the API's own action. CreateSecret and CreateEmailIdentity
 * with Tags also need TagResource (the service authorisation reference's "dependent actions");
 * CreateEmailIdentity of a DEED replica needs ReplicateEmailIdentityDkimSigningKeys on its parent.
 */
export const DEPENDENT_ACTIONS: Record<string, string[]> = {
  'secretsmanager:CreateSecret': ['secretsmanager:TagResource'],
  'ses:CreateEmailIdentity': ['ses:TagResource', 'ses:ReplicateEmailIdentityDkimSigningKeys'],
};

/** What the check needs of a handler's bundle. */
interface Bundle {
  /** The bundle's code, unminified. */
  code: string;
  /** Our modules that contributed code to it (one tree-shaken to nothing is left out). */
  modules: string[];
}

/**
 * The handlers' bundles, built as scripts/build.ts builds them for Lambda (ESM, tree-shaken),
 * in memory and in one pass, but unminified and with packages left external: the code the
 * handler never reaches is gone, and what is left names the SDK commands it uses under the
 * names of its `import { XCommand } from "@aws-sdk/client-…"` statements. The SDK's own code
 * never sends a command of its client (we use no paginators or waiters), so these are all the
 * calls a function can make. Parsing only our code keeps this fast (about 0.1 s for every
 * function, against 2 s with the SDK bundled).
 */
function bundles(handlerFiles: string[]): Map<string, Bundle> {
  const result = buildSync({
    entryPoints: handlerFiles,
    bundle: true,
    write: false,
    metafile: true,
    outdir: 'bundles',
    packages: 'external',
    platform: 'node',
    target: 'node22',
    format: 'esm',
    logLevel: 'silent',
  });
  const byHandler = new Map<string, Bundle>();
  for (const [outputPath, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint === undefined) continue;
    const file = result.outputFiles.find((f) => f.path === resolve(outputPath));
    if (file === undefined) throw new Error(`esbuild wrote no ${outputPath}`);
    const modules = Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path);
    byHandler.set(resolve(output.entryPoint), { code: file.text, modules });
  }
  return byHandler;
}

let everyFunction: Map<string, Bundle> | undefined;

/** A handler's bundle, from one build of every function's handler (made once). */
function bundleOf(handlerFile: string): Bundle {
  everyFunction ??= bundles(functionFolders().map((folder) => join(folder, 'handler.ts')));
  const path = resolve(handlerFile);
  const bundle = everyFunction.get(path) ?? bundles([handlerFile]).get(path);
  if (bundle === undefined) throw new Error(`${handlerFile}: esbuild produced no bundle`);
  return bundle;
}

const CLIENT_IMPORT =
  /^import\s*(\{[^}]*\}|\*\s*as\s+\w+|\w+)\s*from\s*"(@aws-sdk\/(?:client-[^"]+|lib-dynamodb))";?$/gm;

/**
 * The SDK commands a bundle uses, by client package: those its import statements name and its
 * code still refers to (esbuild keeps an external import's names even when the code that used
 * them was shaken out).
 */
function commandsIn(
  bundle: Bundle,
  handlerFile: string,
): { client: string; command: string; operation: string }[] {
  const code = bundle.code.replace(/^import\s[^;]*;$/gm, '');
  const found: { client: string; command: string; operation: string }[] = [];
  for (const [, clause = '', client = ''] of bundle.code.matchAll(CLIENT_IMPORT)) {
    if (!clause.startsWith('{')) {
      throw new Error(
        `${handlerFile}: its code imports ${client} as a whole; import commands by name, so that the check can see which it uses`,
      );
    }
    for (const specifier of clause.slice(1, -1).split(',')) {
      const [imported = '', local = imported] = specifier.trim().split(/\s+as\s+/);
      const command = /^([A-Z][A-Za-z0-9]*)Command$/.exec(imported)?.[1];
      if (command !== undefined && new RegExp(`\\b${local}\\b`).test(code)) {
        found.push({ client, command, operation: operationOf(client, command) });
      }
    }
  }
  return found;
}

/** The API operation a command sends: its name, but for the document client's short names. */
function operationOf(client: string, command: string): string {
  if (client !== '@aws-sdk/lib-dynamodb') return command;
  const operation = DOCUMENT_CLIENT_OPERATIONS[command];
  if (operation === undefined) throw new Error(`No DynamoDB operation known for ${command}Command`);
  return operation;
}

export interface FunctionSdkUsage {
  /** The IAM actions the code's commands map to, e.g. `ses:GetEmailIdentity`, sorted. */
  actions: string[];
  /** Where each action comes from: our modules in the bundle that import its command. */
  sources: Record<string, string[]>;
  /** Dependent actions the used actions need, e.g. `secretsmanager:TagResource`. */
  dependent: string[];
}

/** The IAM actions a function's code can call: the SDK commands its handler's bundle imports. */
export function sdkUsageOf(handlerFile: string, root = process.cwd()): FunctionSdkUsage {
  const bundle = bundleOf(handlerFile);
  const sources: Record<string, string[]> = {};
  for (const { client, command, operation } of commandsIn(bundle, handlerFile)) {
    const prefix = IAM_PREFIX_OF_CLIENT[client];
    if (prefix === undefined) {
      throw new Error(
        `${handlerFile}: its bundle uses ${command}Command of ${client}, whose IAM prefix is unknown; add it to IAM_PREFIX_OF_CLIENT`,
      );
    }
    const users = bundle.modules.filter((module) =>
      new RegExp(`\\b${command}Command\\b`).test(readFileSync(resolve(root, module), 'utf8')),
    );
    sources[`${prefix}:${operation}`] = users.map((module) =>
      relative(root, resolve(root, module)),
    );
  }
  const actions = Object.keys(sources).sort();
  const dependent = [
    ...new Set(actions.flatMap((action) => DEPENDENT_ACTIONS[action] ?? [])),
  ].sort();
  return { actions, sources, dependent };
}
