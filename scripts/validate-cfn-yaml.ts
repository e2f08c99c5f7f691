/**
 * Reads a CloudFormation/SAM YAML template into plain JSON-like data, short-form intrinsics
 * (`!Ref`, `!Sub`, `!GetAtt`...) turned into their long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`),
 * so that checks and tests can walk it.
 */
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

const FUNCTIONS = [
  'And',
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Select',
  'Split',
  'Sub',
  'Transform',
];

function longForm(tag: string, value: unknown): unknown {
  if (tag === 'Ref') return { Ref: value };
  if (tag === 'Condition') return { Condition: value };
  if (tag === 'GetAtt') {
    // `!GetAtt Resource.Attribute` is a string; the long form is [Resource, Attribute].
    if (typeof value === 'string') {
      const dot = value.indexOf('.');
      return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
    }
    return { 'Fn::GetAtt': value };
  }
  return { [`Fn::${tag}`]: value };
}

const CFN_TAGS: Tags = ['Ref', 'Condition', 'GetAtt', ...FUNCTIONS].flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((kind) => ({
    tag: `!${name}`,
    ...(kind === 'scalar' ? {} : { collection: kind }),
    // biome-ignore lint/suspicious/noExplicitAny: the yaml node types differ per collection kind
    resolve: (value: any) =>
      longForm(name, typeof value?.toJSON === 'function' ? value.toJSON() : value),
  })),
) as Tags;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  Description?: string;
  Parameters?: Record<string, Record<string, Json>>;
  Conditions?: Record<string, Json>;
  Globals?: Record<string, Record<string, Json>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Description?: string; Value: Json }>;
}

/** Parses a template's text. */
export function parseTemplate(text: string): CfnTemplate {
  return parse(text, { customTags: CFN_TAGS, uniqueKeys: true }) as CfnTemplate;
}

/** Reads and parses a template file. */
export function loadTemplate(path = 'template.yaml'): CfnTemplate {
  return parseTemplate(readFileSync(path, 'utf8'));
}

/** The resources of one type, by logical ID. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  Condition?: Record<string, Record<string, Json>>;
  Principal?: Json;
}

/** A statement's actions as a list. */
export function actionsOf(statement: PolicyStatement): string[] {
  const action = statement.Action ?? [];
  return Array.isArray(action) ? action : [action];
}

/** A statement's resources as a list (each a string or an intrinsic). */
export function resourcesOf(statement: PolicyStatement): Json[] {
  const resource = statement.Resource ?? [];
  return Array.isArray(resource) ? resource : [resource];
}

/**
 * Every inline policy statement in the template, with where it is: SAM function `Policies`,
 * IAM role `Policies`, queue and other resource policies.
 */
export function allPolicyStatements(
  template: CfnTemplate,
): { logicalId: string; statement: PolicyStatement }[] {
  const found: { logicalId: string; statement: PolicyStatement }[] = [];
  const visit = (logicalId: string, node: Json): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(logicalId, item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const statements = node.Statement;
    if (Array.isArray(statements)) {
      for (const statement of statements) {
        found.push({ logicalId, statement: statement as unknown as PolicyStatement });
      }
    }
    for (const value of Object.values(node)) visit(logicalId, value);
  };
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    visit(logicalId, (resource.Properties ?? {}) as Json);
  }
  return found;
}
