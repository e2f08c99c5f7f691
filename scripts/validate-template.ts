/**
 * Checks template.yaml beyond what CloudFormation itself checks:
 *   1. cfn-lint (python3's, SAM-aware) reports no error and no warning;
 *   2. every `${...}` in the state machine definition has a DefinitionSubstitutions entry, and
 *      every entry is used;
 *   3. every function's CodeUri is the build output of one functions/<room>/<name>/handler.ts
 *      (dist/<name>/), its Handler an export of that file, and every such file has one function;
 *   4. every AWS API action a function's code can call is granted by its policy, and nothing more;
 *      the state machine role grants what its Task states integrate with, and nothing more;
 *   5. no policy grants an action with a wildcard.
 * Run: npx tsx scripts/validate-template.ts [template.yaml]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { builtFunctionName, DIST_DIR, HANDLER_MODULE, sourceFolderOf } from './build.js';
import { functionFolders, queuedStepFolders, SES_WORKER_HANDLER } from './lib/function-folders.js';
import {
  actionsOf,
  allPolicyStatements,
  type CfnResource,
  type CfnTemplate,
  type Json,
  loadTemplate,
  type PolicyStatement,
  resourcesOfType,
} from './validate-cfn-yaml.js';
import { sdkUsageOf } from './validate-sdk-usage.js';

export interface CheckResult {
  name: string;
  problems: string[];
  /** Said when a check could not run (and why), instead of passing silently. */
  skipped?: string;
}

/** cfn-lint: no errors, no warnings. Informational findings are left to the reader. */
export function checkCfnLint(templatePath: string): CheckResult {
  const name = 'cfn-lint';
  const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', templatePath], {
    encoding: 'utf8',
  });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      name,
      problems: [
        missing
          ? 'cfn-lint is not installed or not on PATH: install it with `python3 -m pip install cfn-lint` (the SAM-aware linter; the npm package of that name is another tool)'
          : `cfn-lint could not run: ${run.error.message}`,
      ],
    };
  }
  // Exit status is a bit mask: 1 fatal, 2 error, 4 warning, 8 informational.
  const status = run.status ?? 1;
  const findings = `${run.stdout}${run.stderr}`.trim().split('\n').filter(Boolean);
  if ((status & 0b0111) === 0) return { name, problems: [] };
  return {
    name,
    problems: findings.length > 0 ? findings : [`cfn-lint exited with status ${status}`],
  };
}

/** Every `${Name}` in the definition has a substitution, and every substitution is used. */
export function checkDefinitionSubstitutions(template: CfnTemplate): CheckResult {
  const name = 'DefinitionSubstitutions';
  const problems: string[] = [];
  const machines = resourcesOfType(template, 'AWS::Serverless::StateMachine');
  if (machines.length === 0) return { name, problems: ['no AWS::Serverless::StateMachine'] };
  const skipped: string[] = [];
  for (const [logicalId, machine] of machines) {
    const uri = machine.Properties?.DefinitionUri;
    if (typeof uri !== 'string') {
      problems.push(`${logicalId}: DefinitionUri must be a local file path`);
      continue;
    }
    if (!existsSync(uri)) {
      skipped.push(`${logicalId}: ${uri} does not exist yet, placeholders not checked`);
      continue;
    }
    const definition = readFileSync(uri, 'utf8');
    try {
      JSON.parse(definition);
    } catch (error) {
      problems.push(`${uri} is not valid JSON before substitution: ${(error as Error).message}`);
    }
    const used = new Set([...definition.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] as string));
    const given = new Set(
      Object.keys((machine.Properties?.DefinitionSubstitutions ?? {}) as Record<string, Json>),
    );
    for (const placeholder of used) {
      if (!given.has(placeholder)) {
        problems.push(`${uri} uses \${${placeholder}} but ${logicalId} has no substitution for it`);
      }
    }
    for (const key of given) {
      if (!used.has(key)) {
        problems.push(`${logicalId} substitutes ${key}, which ${uri} never uses`);
      }
    }
  }
  return { name, problems, ...(skipped.length > 0 ? { skipped: skipped.join('; ') } : {}) };
}

interface FunctionSource {
  logicalId: string;
  /** The source folder, functions/<room>/<name>, whose build CodeUri names. */
  folder: string;
  /** The TypeScript entry point the build bundles into the module Handler names. */
  entry: string;
}

/** The names a TypeScript module exports, read by esbuild without bundling. */
function exportsOf(file: string): string[] {
  const result = buildSync({
    entryPoints: [file],
    bundle: false,
    write: false,
    metafile: true,
    outdir: 'exports',
    format: 'esm',
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

/**
 * The source folder and entry file of each function. Every function is built by
 * `npm run build` (scripts/build.ts), so each must say so in one way: CodeUri `dist/<name>/`,
 * the output folder of the one functions/<room>/<name>/handler.ts; Handler `index.<export>`,
 * an export that handler.ts has; and no build Metadata, which would have `sam build` build the
 * built folder again.
 */
export function functionSources(
  template: CfnTemplate,
  folders: readonly string[] = functionFolders(),
): {
  sources: FunctionSource[];
  problems: string[];
} {
  const problems: string[] = [];
  const sources: FunctionSource[] = [];
  for (const [logicalId, fn] of resourcesOfType(template, 'AWS::Serverless::Function')) {
    const codeUri = fn.Properties?.CodeUri;
    const handler = fn.Properties?.Handler;
    if (typeof codeUri !== 'string' || typeof handler !== 'string') {
      problems.push(`${logicalId}: CodeUri and Handler must be strings`);
      continue;
    }
    if (fn.Metadata?.BuildMethod !== undefined) {
      problems.push(
        `${logicalId}: has build Metadata (BuildMethod ${JSON.stringify(fn.Metadata.BuildMethod)}); npm run build bundles every function, so remove it and point CodeUri at ${DIST_DIR}/<name>/`,
      );
      continue;
    }
    const folder = sourceFolderOf(codeUri, folders);
    if (folder === undefined) {
      const name = builtFunctionName(codeUri);
      const namesakes = folders.filter((candidate) => basename(candidate) === name);
      problems.push(
        namesakes.length > 1
          ? `${logicalId}: CodeUri ${codeUri} could be the build of ${namesakes.join(' or ')}; function names must be unique across rooms`
          : `${logicalId}: CodeUri ${codeUri} is not the build of a function: npm run build writes ${DIST_DIR}/<name>/ for each functions/<room>/<name>/handler.ts`,
      );
      continue;
    }
    const dot = handler.lastIndexOf('.');
    const [moduleName, exportName] = [handler.slice(0, dot), handler.slice(dot + 1)];
    const entry = join(folder, 'handler.ts');
    if (dot < 0 || moduleName !== HANDLER_MODULE) {
      problems.push(
        `${logicalId}: Handler ${handler} names module ${moduleName}, but npm run build writes ${HANDLER_MODULE}.mjs from ${entry}`,
      );
      continue;
    }
    if (!exportsOf(entry).includes(exportName)) {
      problems.push(
        `${logicalId}: Handler ${handler} names ${exportName}, which ${entry} does not export`,
      );
      continue;
    }
    sources.push({ logicalId, folder, entry });
  }
  return { sources, problems };
}

/**
 * CodeUri/Handler name a built function, and every function folder is deployed once; a step the
 * state machine queues is deployed inside the SES request worker, which must then run it.
 */
export function checkHandlerPaths(template: CfnTemplate, functionsDir = 'functions'): CheckResult {
  const folders = functionFolders(functionsDir);
  const { sources, problems } = functionSources(template, folders);
  const worker = existsSync(SES_WORKER_HANDLER) ? readFileSync(SES_WORKER_HANDLER, 'utf8') : '';
  for (const queued of queuedStepFolders(functionsDir)) {
    if (!worker.includes(`#steps/${basename(queued)}/handler.js`)) {
      problems.push(
        `${queued} is queued by the state machine, but ${SES_WORKER_HANDLER} does not run it`,
      );
    }
  }
  const deployedAs = new Map<string, string>();
  for (const { logicalId, folder } of sources) {
    const other = deployedAs.get(folder);
    if (other !== undefined) problems.push(`${other} and ${logicalId} both deploy ${folder}`);
    deployedAs.set(folder, logicalId);
  }
  for (const folder of folders) {
    if (!deployedAs.has(folder)) {
      problems.push(`${folder}/handler.ts has no AWS::Serverless::Function in the template`);
    }
  }
  return { name: 'handler paths', problems };
}

/** The actions a SAM function's inline policy statements allow; other policy forms are reported. */
function grantedActions(logicalId: string, fn: CfnResource, problems: string[]): Set<string> {
  const granted = new Set<string>();
  const policies = fn.Properties?.Policies;
  if (policies === undefined) return granted;
  for (const policy of Array.isArray(policies) ? policies : [policies]) {
    const statements =
      policy !== null && typeof policy === 'object' && !Array.isArray(policy)
        ? policy.Statement
        : undefined;
    if (!Array.isArray(statements)) {
      problems.push(
        `${logicalId}: policy ${JSON.stringify(policy)} is not an inline statement list, so it cannot be checked against the code`,
      );
      continue;
    }
    for (const statement of statements as unknown as PolicyStatement[]) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of actionsOf(statement)) granted.add(action);
    }
  }
  return granted;
}

/**
 * Each function's policy grants exactly the actions its code can call (plus the dependent
 * actions those need), derived from the `XxxCommand`s its handler reaches.
 */
export function checkFunctionPolicies(template: CfnTemplate): CheckResult {
  const { sources, problems } = functionSources(template);
  for (const { logicalId, entry } of sources) {
    const fn = template.Resources[logicalId] as CfnResource;
    const usage = sdkUsageOf(entry);
    const granted = grantedActions(logicalId, fn, problems);
    const needed = new Set([...usage.actions, ...usage.dependent]);
    for (const action of needed) {
      if (!granted.has(action)) {
        const from = usage.sources[action]?.join(', ') ?? 'a dependent action';
        problems.push(
          `${logicalId}: the code calls ${action} (${from}) but the policy does not allow it`,
        );
      }
    }
    for (const action of granted) {
      if (!needed.has(action)) {
        problems.push(`${logicalId}: the policy allows ${action}, which the code never calls`);
      }
    }
  }
  return { name: 'function policies vs code', problems };
}

// What each ASL integration needs from the state machine's role; logging and tracing are
// needed by the Logging and Tracing settings and are always allowed.
const INTEGRATION_ACTIONS: Record<string, string> = {
  'arn:aws:states:::lambda:invoke': 'lambda:InvokeFunction',
  'arn:aws:states:::events:putEvents': 'events:PutEvents',
  'arn:aws:states:::sqs:sendMessage': 'sqs:SendMessage',
  'arn:aws:states:::dynamodb:updateItem': 'dynamodb:UpdateItem',
  'arn:aws:states:::dynamodb:deleteItem': 'dynamodb:DeleteItem',
};
const LOGGING_AND_TRACING = new Set([
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
]);

function taskResources(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) taskResources(item, found);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.Type === 'Task' && typeof record.Resource === 'string') found.add(record.Resource);
    for (const value of Object.values(record)) taskResources(value, found);
  }
  return found;
}

/** The state machine's role grants what its Task states integrate with, logging and tracing. */
export function checkStateMachineRole(template: CfnTemplate): CheckResult {
  const name = 'state machine role vs definition';
  const problems: string[] = [];
  for (const [logicalId, machine] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) {
    const uri = machine.Properties?.DefinitionUri;
    if (typeof uri !== 'string' || !existsSync(uri)) {
      return { name, problems, skipped: `${logicalId}: no definition file yet` };
    }
    const role = machine.Properties?.Role as Record<string, Json> | undefined;
    const roleId = (role?.['Fn::GetAtt'] as string[] | undefined)?.[0];
    if (roleId === undefined || template.Resources[roleId]?.Type !== 'AWS::IAM::Role') {
      problems.push(`${logicalId}: Role must be !GetAtt <an AWS::IAM::Role in this template>.Arn`);
      continue;
    }
    const granted = new Set(
      allPolicyStatements({ Resources: { [roleId]: template.Resources[roleId] as CfnResource } })
        .filter(
          ({ statement }) => statement.Effect === 'Allow' && statement.Principal === undefined,
        )
        .flatMap(({ statement }) => actionsOf(statement)),
    );
    const needed = new Set<string>();
    for (const resource of taskResources(JSON.parse(readFileSync(uri, 'utf8')))) {
      const action = INTEGRATION_ACTIONS[resource.replace(/\.(sync|waitForTaskToken)$/, '')];
      if (action === undefined) {
        problems.push(`${uri}: no known IAM action for Task resource ${resource}`);
      } else {
        needed.add(action);
      }
    }
    for (const action of needed) {
      if (!granted.has(action)) problems.push(`${roleId}: the definition needs ${action}`);
    }
    for (const action of granted) {
      if (!needed.has(action) && !LOGGING_AND_TRACING.has(action)) {
        problems.push(`${roleId}: allows ${action}, which no Task state uses`);
      }
    }
  }
  return { name, problems };
}

/**
 * Every Task that invokes one of our functions gives it longer than the function's own Timeout
 * (plus room for a cold start), so Step Functions never abandons work Lambda is still doing.
 */
export function checkTaskTimeouts(template: CfnTemplate): CheckResult {
  const name = 'Task timeouts vs function timeouts';
  const problems: string[] = [];
  const globalTimeout = Number(
    (template.Globals?.Function as Record<string, Json> | undefined)?.Timeout ?? 3,
  );
  for (const [logicalId, machine] of resourcesOfType(template, 'AWS::Serverless::StateMachine')) {
    const uri = machine.Properties?.DefinitionUri;
    if (typeof uri !== 'string' || !existsSync(uri)) continue;
    const substitutions = (machine.Properties?.DefinitionSubstitutions ?? {}) as Record<
      string,
      Json
    >;
    const states = (JSON.parse(readFileSync(uri, 'utf8')) as { States: Record<string, Json> })
      .States;
    for (const [stateName, state] of Object.entries(states) as [string, Record<string, Json>][]) {
      // A callback task's timeout is its wait for the token; the function only hands it over.
      if (state.Type !== 'Task' || String(state.Resource).endsWith('.waitForTaskToken')) continue;
      const functionName = (state.Parameters as Record<string, Json> | undefined)?.FunctionName;
      const placeholder = /^\$\{(\w+)\}$/.exec(String(functionName ?? ''))?.[1];
      const arn = placeholder === undefined ? undefined : substitutions[placeholder];
      const target = (arn as { 'Fn::GetAtt'?: Json[] } | undefined)?.['Fn::GetAtt']?.[0];
      if (typeof target !== 'string') continue;
      const fn = template.Resources[target];
      const timeout = Number(fn?.Properties?.Timeout ?? globalTimeout);
      const taskTimeout = Number(state.TimeoutSeconds);
      if (!(taskTimeout > timeout)) {
        problems.push(
          `${logicalId} ${stateName}: TimeoutSeconds ${state.TimeoutSeconds} does not exceed ${target}'s Timeout of ${timeout} s`,
        );
      }
    }
  }
  return { name, problems };
}

/** No statement anywhere allows `*` or `service:*`-style actions, or uses NotAction. */
export function checkNoWildcardActions(template: CfnTemplate): CheckResult {
  const problems: string[] = [];
  for (const { logicalId, statement } of allPolicyStatements(template)) {
    if (statement.NotAction !== undefined) {
      problems.push(`${logicalId}: a statement uses NotAction`);
    }
    for (const action of actionsOf(statement)) {
      if (action.includes('*')) problems.push(`${logicalId}: action ${action} has a wildcard`);
    }
  }
  return { name: 'no wildcard actions', problems };
}

/** Runs every check; cfn-lint only when asked (it needs python3). */
export function validateTemplate(
  templatePath = 'template.yaml',
  options: { cfnLint: boolean } = { cfnLint: true },
): CheckResult[] {
  const template = loadTemplate(templatePath);
  return [
    ...(options.cfnLint ? [checkCfnLint(templatePath)] : []),
    checkDefinitionSubstitutions(template),
    checkHandlerPaths(template),
    checkFunctionPolicies(template),
    checkStateMachineRole(template),
    checkTaskTimeouts(template),
    checkNoWildcardActions(template),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const templatePath = process.argv[2] ?? 'template.yaml';
  const results = validateTemplate(templatePath);
  let failed = false;
  for (const result of results) {
    if (result.problems.length > 0) {
      failed = true;
      console.error(`✗ ${result.name}`);
      for (const problem of result.problems) console.error(`    ${problem}`);
    } else if (result.skipped) {
      console.log(`- ${result.name}: skipped (${result.skipped})`);
    } else {
      console.log(`✓ ${result.name}`);
    }
  }
  console.log(
    failed ? `${basename(templatePath)}: problems found` : `${basename(templatePath)}: ok`,
  );
  process.exit(failed ? 1 : 0);
}
