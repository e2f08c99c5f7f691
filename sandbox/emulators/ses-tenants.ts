/**
 * SES v2 tenants: CreateTenant, GetTenant, ListTenants, DeleteTenant, and the association of
 * resources (email identities, configuration sets) with them: CreateTenantResourceAssociation,
 * DeleteTenantResourceAssociation, ListTenantResources, ListResourceTenants
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateTenant.html).
 */
import { randomInt } from 'node:crypto';
import {
  alreadyExists,
  badRequest,
  notFound,
  pageOf,
  resourceName,
  type Tag,
  validateTags,
} from './ses-common.js';
import { epochSeconds, type Now } from './wire.js';

const RESOURCE_TYPES = ['EMAIL_IDENTITY', 'CONFIGURATION_SET', 'EMAIL_TEMPLATE'] as const;
type ResourceType = (typeof RESOURCE_TYPES)[number];

interface Tenant {
  name: string;
  id: string;
  arn: string;
  createdAt: Date;
  tags: Tag[];
  /** Associated resources, by ARN, with when they were associated. */
  resources: Map<string, Date>;
}

/** `arn:aws:ses:region:account:identity/name` → EMAIL_IDENTITY, and so on. */
function resourceTypeOf(arn: string): ResourceType | undefined {
  const resource = arn.split(':')[5] ?? '';
  if (resource.startsWith('identity/')) return 'EMAIL_IDENTITY';
  if (resource.startsWith('configuration-set/')) return 'CONFIGURATION_SET';
  if (resource.startsWith('template/')) return 'EMAIL_TEMPLATE';
  return undefined;
}

const tenantNotFound = (name: string) => notFound(`Tenant <${name}> does not exist.`);

export class Tenants {
  private readonly tenants = new Map<string, Tenant>();

  constructor(
    private readonly options: {
      region: string;
      account: string;
      now: Now;
      /** Whether the resource an ARN names exists (identities, configuration sets). */
      resourceExists: (arn: string) => boolean;
    },
  ) {}

  create(body: Record<string, unknown>): Record<string, unknown> {
    const name = resourceName(body.TenantName, 'TenantName');
    if (this.tenants.has(name)) throw alreadyExists(`Tenant <${name}> already exists.`);
    let id = 'tn-';
    for (let i = 0; i < 17; i++) id += '0123456789abcdef'[randomInt(16)];
    const tenant: Tenant = {
      name,
      id,
      arn: `arn:aws:ses:${this.options.region}:${this.options.account}:tenant/${name}/${id}`,
      createdAt: this.options.now(),
      tags: validateTags(body.Tags),
      resources: new Map(),
    };
    this.tenants.set(name, tenant);
    return this.describe(tenant);
  }

  get(body: Record<string, unknown>): Record<string, unknown> {
    return { Tenant: this.describe(this.find(body.TenantName)) };
  }

  list(body: Record<string, unknown>): Record<string, unknown> {
    const { page, nextToken } = pageOf([...this.tenants.values()], (tenant) => tenant.name, body, {
      fallback: 100,
      max: 100,
    });
    return {
      Tenants: page.map((tenant) => ({
        TenantName: tenant.name,
        TenantId: tenant.id,
        TenantArn: tenant.arn,
        CreatedTimestamp: epochSeconds(tenant.createdAt),
      })),
      ...(nextToken && { NextToken: nextToken }),
    };
  }

  delete(body: Record<string, unknown>): Record<string, never> {
    const tenant = this.find(body.TenantName);
    this.tenants.delete(tenant.name);
    return {};
  }

  associate(body: Record<string, unknown>): Record<string, never> {
    const tenant = this.find(body.TenantName);
    const arn = this.resourceArn(body.ResourceArn);
    if (!this.options.resourceExists(arn)) throw notFound(`Resource <${arn}> does not exist.`);
    if (tenant.resources.has(arn)) {
      throw alreadyExists(`Resource <${arn}> is already associated with tenant <${tenant.name}>.`);
    }
    tenant.resources.set(arn, this.options.now());
    return {};
  }

  disassociate(body: Record<string, unknown>): Record<string, never> {
    const tenant = this.find(body.TenantName);
    const arn = this.resourceArn(body.ResourceArn);
    if (!tenant.resources.delete(arn)) {
      throw notFound(`Resource <${arn}> is not associated with tenant <${tenant.name}>.`);
    }
    return {};
  }

  listResources(body: Record<string, unknown>): Record<string, unknown> {
    const tenant = this.find(body.TenantName);
    const filter = (body.Filter ?? {}) as Record<string, unknown>;
    const wanted = filter.RESOURCE_TYPE;
    if (wanted !== undefined && !RESOURCE_TYPES.includes(wanted as ResourceType)) {
      throw badRequest(`Invalid RESOURCE_TYPE filter: ${String(wanted)}.`);
    }
    const resources = [...tenant.resources.keys()]
      .map((arn) => ({ ResourceType: resourceTypeOf(arn) as ResourceType, ResourceArn: arn }))
      .filter((resource) => wanted === undefined || resource.ResourceType === wanted);
    const { page, nextToken } = pageOf(resources, (resource) => resource.ResourceArn, body, {
      fallback: 100,
      max: 100,
    });
    return { TenantResources: page, ...(nextToken && { NextToken: nextToken }) };
  }

  listResourceTenants(body: Record<string, unknown>): Record<string, unknown> {
    const arn = this.resourceArn(body.ResourceArn);
    const tenants = [...this.tenants.values()].filter((tenant) => tenant.resources.has(arn));
    const { page, nextToken } = pageOf(tenants, (tenant) => tenant.name, body, {
      fallback: 100,
      max: 100,
    });
    return {
      ResourceTenants: page.map((tenant) => ({
        TenantName: tenant.name,
        TenantId: tenant.id,
        ResourceArn: arn,
        AssociatedTimestamp: epochSeconds(tenant.resources.get(arn) as Date),
      })),
      ...(nextToken && { NextToken: nextToken }),
    };
  }

  /** Drops a deleted resource from every tenant. */
  forgetResource(arn: string): void {
    for (const tenant of this.tenants.values()) tenant.resources.delete(arn);
  }

  private find(name: unknown): Tenant {
    const tenant = typeof name === 'string' ? this.tenants.get(name) : undefined;
    if (!tenant) throw tenantNotFound(String(name));
    return tenant;
  }

  private resourceArn(value: unknown): string {
    if (
      typeof value !== 'string' ||
      !/^arn:aws[a-z-]*:ses:/.test(value) ||
      !resourceTypeOf(value)
    ) {
      throw badRequest(`Invalid ResourceArn: ${String(value)}.`);
    }
    return value;
  }

  private describe(tenant: Tenant): Record<string, unknown> {
    return {
      TenantName: tenant.name,
      TenantId: tenant.id,
      TenantArn: tenant.arn,
      CreatedTimestamp: epochSeconds(tenant.createdAt),
      Tags: tenant.tags,
      SendingStatus: 'ENABLED',
    };
  }
}
