/**
 * The ASL runner: how this project runs statemachine/verify-email-identity.asl.json on one
 * machine with aws-local-stepfunctions. Two users share it, so they run the same thing: the
 * sandbox (sandbox/engine/, against emulated AWS services) and the state machine tests
 * (test/state-machine/harness.ts, against mocked clients). This module loads the definition and
 * fills in its DefinitionSubstitutions; local-tasks.ts binds its Task states to the handlers in
 * functions/; handlers.ts imports them.
 */
import { readFile } from 'node:fs/promises';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** The state machine both users run: the deployed ASL file, read unchanged. */
export const ASL_PATH = new URL(
  '../../statemachine/verify-email-identity.asl.json',
  import.meta.url,
);

/** The account the sandbox and the tests pretend to be. */
export const LOCAL_ACCOUNT = '000000000000';

/** Where ARNs point: the account and the region the runner pretends to be in. */
export interface LocalPlace {
  region: string;
  account?: string;
}

/** The ARN a Lambda function of this project would have in the local account. */
export function functionArn(functionName: string, place: LocalPlace): string {
  return `arn:aws:lambda:${place.region}:${place.account ?? LOCAL_ACCOUNT}:function:${functionName}`;
}

/** `CreateIdentityFunctionArn` → `create-identity`: the folder under functions/steps/ it names. */
export function functionNameOf(placeholder: string): string {
  return placeholder
    .replace(/FunctionArn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

export interface SubstitutionValues extends LocalPlace {
  eventBusName: string;
  eventSource: string;
}

/**
 * The DefinitionSubstitutions template.yaml passes, with local values: every
 * `${NameFunctionArn}` the definition uses becomes the ARN of functions/steps/name-in-kebab-case,
 * so a step added to the ASL needs no change here.
 */
export function localSubstitutions(
  definitionText: string,
  values: SubstitutionValues,
): Record<string, string> {
  const substitutions: Record<string, string> = {
    EventBusName: values.eventBusName,
    EventSource: values.eventSource,
  };
  for (const [, placeholder] of definitionText.matchAll(/\$\{([A-Za-z0-9]+FunctionArn)\}/g)) {
    substitutions[placeholder as string] = functionArn(
      functionNameOf(placeholder as string),
      values,
    );
  }
  return substitutions;
}

/**
 * Replaces `${Name}` inside every string of a parsed definition, as CloudFormation's
 * DefinitionSubstitutions do. The JSON is parsed first, so a value can never break its syntax;
 * a placeholder without a value is an error rather than a literal `${...}` left in a Resource.
 */
export function substitute<T>(value: T, substitutions: Record<string, string>): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
        const replacement = substitutions[name];
        if (replacement === undefined) {
          throw new Error(`The definition uses \${${name}}, which has no substitution`);
        }
        return replacement;
      });
    }
    if (Array.isArray(node)) return node.map(visit);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, visit(child)]));
    }
    return node;
  };
  return visit(value) as T;
}

/** A definition ready to run, and the functions (folders under functions/steps/) it invokes. */
export interface LoadedDefinition {
  definition: StateMachineDefinition;
  functionNames: string[];
}

/** Reads an ASL file and substitutes its placeholders with local values. */
export async function loadDefinition(
  values: SubstitutionValues,
  path: URL | string = ASL_PATH,
): Promise<LoadedDefinition> {
  const text = await readFile(path, 'utf8');
  const substitutions = localSubstitutions(text, values);
  const definition = substitute(JSON.parse(text) as StateMachineDefinition, substitutions);
  const functionNames = Object.keys(substitutions)
    .filter((key) => key.endsWith('FunctionArn'))
    .map(functionNameOf);
  return { definition, functionNames };
}

/**
 * The longest a JavaScript timer can wait (2^31 - 1 ms, about 24.8 days); a longer delay fires at
 * once, so it is the longest a local Task can be given.
 */
const LONGEST_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition as Step Functions runs it: a Task without `TimeoutSeconds` has no time-out of
 * its own in AWS (it runs until its work answers or the execution ends; see
 * https://docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html), while
 * aws-local-stepfunctions gives it 60 seconds. Such Tasks get the longest time-out a timer allows,
 * so the local engine never invents a `States.Timeout` that AWS would not raise.
 */
export function withStepFunctionsTaskTimeouts<T>(definition: T): T {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const object = Object.fromEntries(
      Object.entries(node).map(([key, child]) => [key, visit(child)]),
    );
    if (
      object.Type === 'Task' &&
      object.TimeoutSeconds === undefined &&
      object.TimeoutSecondsPath === undefined
    ) {
      object.TimeoutSeconds = LONGEST_TIMER_SECONDS;
    }
    return object;
  };
  return visit(definition) as T;
}
