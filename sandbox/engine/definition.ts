import { readFile } from 'node:fs/promises';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** The state machine the sandbox runs: the deployed ASL file, read unchanged. */
export const ASL_PATH = new URL(
  '../../statemachine/verify-email-identity.asl.json',
  import.meta.url,
);

/** The account and region the sandbox pretends to be. */
export const SANDBOX_ACCOUNT = '000000000000';
export const SANDBOX_REGION = 'us-east-1';

/** The ARN a Lambda function of this project would have in the sandbox account. */
export function functionArn(functionName: string): string {
  return `arn:aws:lambda:${SANDBOX_REGION}:${SANDBOX_ACCOUNT}:function:${functionName}`;
}

/** `CreateIdentity` → `create-identity`: the folder under functions/ of a `${...FunctionArn}`. */
export function functionNameOf(placeholder: string): string {
  return placeholder
    .replace(/FunctionArn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * The DefinitionSubstitutions template.yaml passes, with the sandbox's values: every
 * `${NameFunctionArn}` the definition uses becomes the ARN of functions/name-in-kebab-case, so
 * a step added to the ASL needs no change here.
 */
export function sandboxSubstitutions(
  definitionText: string,
  options: { eventBusName: string; eventSource: string },
): Record<string, string> {
  const substitutions: Record<string, string> = {
    EventBusName: options.eventBusName,
    EventSource: options.eventSource,
  };
  for (const [, placeholder] of definitionText.matchAll(/\$\{([A-Za-z0-9]+FunctionArn)\}/g)) {
    substitutions[placeholder as string] = functionArn(functionNameOf(placeholder as string));
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

/** Reads an ASL file and substitutes its placeholders (the sandbox's values by default). */
export async function loadDefinition(
  options: { eventBusName: string; eventSource: string },
  path: URL | string = ASL_PATH,
): Promise<{ definition: StateMachineDefinition; functionNames: string[] }> {
  const text = await readFile(path, 'utf8');
  const substitutions = sandboxSubstitutions(text, options);
  const definition = substitute(JSON.parse(text) as StateMachineDefinition, substitutions);
  const functionNames = Object.keys(substitutions)
    .filter((key) => key.endsWith('FunctionArn'))
    .map(functionNameOf);
  return { definition, functionNames };
}
