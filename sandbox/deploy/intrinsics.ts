/**
 * CloudFormation's intrinsic functions and conditions, evaluated the way CloudFormation would for
 * the sandbox's "deployment" of template.yaml: parameters at their defaults (or overrides),
 * pseudo parameters from the sandbox's place, and each resource's Ref and attributes from the
 * names the sandbox gives it. Only what a template may use in the values the sandbox reads.
 */
import type { CfnTemplate, Json } from '#scripts/validate-cfn-yaml.js';

/** `AWS::NoValue`: the property is left out, as CloudFormation does. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export type Resolved = null | boolean | number | string | Resolved[] | { [key: string]: Resolved };

/** What `Ref` and `Fn::GetAtt` of a resource give. */
export interface ResourceAttributes {
  ref: string;
  attributes: Record<string, string>;
}

export interface IntrinsicScope {
  template: CfnTemplate;
  /** Parameter values (defaults already applied) and pseudo parameters (`AWS::Region`...). */
  values: Record<string, string | number>;
  /** Ref and attributes of a resource, by logical ID. */
  resource(logicalId: string): ResourceAttributes;
}

/** A template the sandbox cannot deploy as written: it says what and where. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const isObject = (value: unknown): value is Record<string, Json> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Evaluates a condition of the template's `Conditions` by name. */
export function condition(scope: IntrinsicScope, name: string): boolean {
  const definition = scope.template.Conditions?.[name];
  if (definition === undefined) throw new TemplateError(`Condition ${name} is not defined`);
  const value = resolve(scope, definition);
  if (typeof value !== 'boolean') throw new TemplateError(`Condition ${name} is not a boolean`);
  return value;
}

/**
 * Resolves every intrinsic in `node`: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If,
 * Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition. A property that resolves to AWS::NoValue is
 * left out of its object (or list).
 */
export function resolve(scope: IntrinsicScope, node: Json): Resolved {
  const value = resolveOrNoValue(scope, node);
  if (value === NO_VALUE) throw new TemplateError('AWS::NoValue where a value is required');
  return value;
}

function resolveOrNoValue(scope: IntrinsicScope, node: Json): Resolved | typeof NO_VALUE {
  if (Array.isArray(node)) {
    return node
      .map((item) => resolveOrNoValue(scope, item))
      .filter((item): item is Resolved => item !== NO_VALUE);
  }
  if (!isObject(node)) return node;
  const keys = Object.keys(node);
  const [only] = keys;
  if (keys.length === 1 && only !== undefined && (only === 'Ref' || only.startsWith('Fn::'))) {
    return intrinsic(scope, only, node[only] as Json);
  }
  if (keys.length === 1 && only === 'Condition' && typeof node.Condition === 'string') {
    return condition(scope, node.Condition);
  }
  const object: { [key: string]: Resolved } = {};
  for (const [key, child] of Object.entries(node)) {
    const value = resolveOrNoValue(scope, child);
    if (value !== NO_VALUE) object[key] = value;
  }
  return object;
}

function intrinsic(
  scope: IntrinsicScope,
  name: string,
  argument: Json,
): Resolved | typeof NO_VALUE {
  switch (name) {
    case 'Ref':
      return ref(scope, String(argument));
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument)
        ? (argument as string[])
        : String(argument).split(/\.(.*)/s);
      return getAtt(scope, String(logicalId), String(attribute));
    }
    case 'Fn::Sub':
      return sub(scope, argument);
    case 'Fn::Join': {
      const [separator, items] = argument as [string, Json];
      const list = resolve(scope, items);
      if (!Array.isArray(list)) throw new TemplateError('Fn::Join needs a list');
      return list.map(String).join(separator);
    }
    case 'Fn::Split': {
      // CloudFormation splits an empty string into one empty string, and so does String#split.
      const [separator, text] = argument as [string, Json];
      return String(resolve(scope, text)).split(separator);
    }
    case 'Fn::Select': {
      const [index, items] = argument as [Json, Json];
      const list = resolve(scope, items);
      if (!Array.isArray(list)) throw new TemplateError('Fn::Select needs a list');
      return list[Number(resolve(scope, index))] ?? null;
    }
    case 'Fn::If': {
      const [conditionName, ifTrue, ifFalse] = argument as [string, Json, Json];
      return resolveOrNoValue(scope, condition(scope, conditionName) ? ifTrue : ifFalse);
    }
    case 'Fn::Equals': {
      const [left, right] = argument as [Json, Json];
      return JSON.stringify(resolve(scope, left)) === JSON.stringify(resolve(scope, right));
    }
    case 'Fn::Not':
      return !resolve(scope, (argument as Json[])[0] as Json);
    case 'Fn::And':
      return (argument as Json[]).every((item) => resolve(scope, item) === true);
    case 'Fn::Or':
      return (argument as Json[]).some((item) => resolve(scope, item) === true);
    default:
      throw new TemplateError(`The sandbox does not evaluate ${name}`);
  }
}

function ref(scope: IntrinsicScope, name: string): Resolved | typeof NO_VALUE {
  if (name === 'AWS::NoValue') return NO_VALUE;
  const value = scope.values[name];
  if (value !== undefined) return value;
  if (scope.template.Resources[name] !== undefined) return scope.resource(name).ref;
  throw new TemplateError(`Ref ${name}: no such parameter or resource`);
}

function getAtt(scope: IntrinsicScope, logicalId: string, attribute: string): string {
  if (scope.template.Resources[logicalId] === undefined) {
    throw new TemplateError(`Fn::GetAtt ${logicalId}.${attribute}: no such resource`);
  }
  const value = scope.resource(logicalId).attributes[attribute];
  if (value === undefined) {
    throw new TemplateError(
      `Fn::GetAtt ${logicalId}.${attribute}: the sandbox has no such attribute`,
    );
  }
  return value;
}

function sub(scope: IntrinsicScope, argument: Json): string {
  const [text, variables] = Array.isArray(argument)
    ? [String(argument[0]), (argument[1] ?? {}) as Record<string, Json>]
    : [String(argument), {} as Record<string, Json>];
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_, literal: string, name: string) => {
    // `${!Name}` is the literal text `${Name}`.
    if (literal === '!') return `\${${name}}`;
    if (name in variables) return String(resolve(scope, variables[name] as Json));
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) {
      return getAtt(scope, name.slice(0, dot), name.slice(dot + 1));
    }
    const value = ref(scope, name);
    if (value === NO_VALUE) throw new TemplateError(`\${${name}} in Fn::Sub`);
    return String(value);
  });
}
