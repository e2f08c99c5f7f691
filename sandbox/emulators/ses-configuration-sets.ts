/**
 * SES v2 configuration sets: Create, Get, List, Delete
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html), so
 * that a request naming one is checked against what exists, as SES checks it.
 */
import {
  alreadyExists,
  notFound,
  pageOf,
  resourceName,
  type Tag,
  validateTags,
} from './ses-common.js';
import type { Now } from './wire.js';

/** The option groups a configuration set keeps as given; the sandbox sends no mail to apply them. */
const OPTION_FIELDS = [
  'TrackingOptions',
  'DeliveryOptions',
  'ReputationOptions',
  'SendingOptions',
  'SuppressionOptions',
  'VdmOptions',
  'ArchivingOptions',
] as const;

interface ConfigurationSet {
  name: string;
  tags: Tag[];
  options: Record<string, unknown>;
  createdAt: Date;
}

export const configurationSetNotFound = (name: string) =>
  notFound(`Configuration set <${name}> does not exist.`);

export class ConfigurationSets {
  private readonly sets = new Map<string, ConfigurationSet>();

  constructor(private readonly now: Now) {}

  has(name: string): boolean {
    return this.sets.has(name);
  }

  create(body: Record<string, unknown>): Record<string, never> {
    const name = resourceName(body.ConfigurationSetName, 'ConfigurationSetName');
    if (this.sets.has(name)) {
      throw alreadyExists(`Configuration set <${name}> already exists.`);
    }
    const options: Record<string, unknown> = {};
    for (const field of OPTION_FIELDS) {
      if (body[field] !== undefined) options[field] = body[field];
    }
    this.sets.set(name, { name, tags: validateTags(body.Tags), options, createdAt: this.now() });
    return {};
  }

  get(name: string): Record<string, unknown> {
    const set = this.sets.get(name);
    if (!set) throw configurationSetNotFound(name);
    return { ConfigurationSetName: set.name, ...set.options, Tags: set.tags };
  }

  list(request: { PageSize?: unknown; NextToken?: unknown }): Record<string, unknown> {
    const { page, nextToken } = pageOf([...this.sets.values()], (set) => set.name, request, {
      fallback: 100,
      max: 1000,
    });
    return {
      ConfigurationSets: page.map((set) => set.name),
      ...(nextToken && { NextToken: nextToken }),
    };
  }

  delete(name: string): Record<string, never> {
    if (!this.sets.delete(name)) throw configurationSetNotFound(name);
    return {};
  }
}
