import { createPrivateKey, createPublicKey, randomInt, randomUUID } from 'node:crypto';
import type { AwsRequest, AwsResponse, EmulatedService } from '#sandbox/aws/service.js';
import { isValidDomainName } from './dns-names.js';
import { badRequest, pageOf, type Tag, validateTags } from './ses-common.js';
import { ConfigurationSets, configurationSetNotFound } from './ses-configuration-sets.js';
import { DkimChecker, type DnsCheckError, type SoaInfo } from './ses-dkim-check.js';
import { Tenants } from './ses-tenants.js';
import {
  ACCOUNT_ID,
  AwsServiceError,
  epochSeconds,
  FaultInjector,
  type FaultOptions,
  matchRestRoute,
  type Now,
  parseJsonBody,
  type RestRoute,
  systemNow,
} from './wire.js';

const HOUR = 3_600_000;
// Easy DKIM tokens are 32 characters of base32 (RFC 4648's alphabet, lower case).
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const SELECTOR = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))$/;
const BASE64 = /^[a-zA-Z0-9+/]+={0,2}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const KEY_LENGTHS = ['RSA_1024_BIT', 'RSA_2048_BIT'] as const;

export type DkimStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
type KeyLength = (typeof KEY_LENGTHS)[number];

interface IdentityState {
  name: string;
  type: 'DOMAIN' | 'EMAIL_ADDRESS';
  createdAt: Date;
  tags: Tag[];
  configurationSetName?: string;
  signingEnabled: boolean;
  origin: 'AWS_SES' | 'EXTERNAL';
  tokens: string[];
  status: DkimStatus;
  /** Only the public half is kept: enough to check the TXT record, nothing to leak. */
  publicKeyDer?: Buffer;
  /** Easy DKIM: the length of the next key pair SES generates. */
  nextKeyLength?: KeyLength;
  /** Easy DKIM: the length of the key pair in use. */
  currentKeyLength?: KeyLength;
  /** Easy DKIM: when SES last generated a key pair. */
  lastKeyGeneration?: Date;
  /** Easy DKIM: when the next key pair, of `nextKeyLength`, is generated (a pending change). */
  keyGenerationAt?: Date;
  /** Easy DKIM: when `NextSigningKeyLength` was last changed (limited to once a day). */
  lastKeyLengthChange?: Date;
  /** When the current verification attempt started; FAILED comes this long after it. */
  pendingSince: Date;
  nextCheckAt?: Date;
  lastChecked?: Date;
  lastSuccess?: Date;
  errorType?: DnsCheckError;
  soa?: SoaInfo;
  /** Bumped on every reset, so a check that started before it does not write its result. */
  generation: number;
  checking?: Promise<void>;
  email?: { token: string; sentAt: Date; confirmed: boolean };
  mailFrom?: MailFromState;
  /**
   * A DEED replica: SES's `AWS_SES_<PARENT_REGION>` origin, and the zone of the parent's CNAMEs,
   * which verify the replica too. Its tokens are the parent's.
   */
  replicaOf?: { origin: string; signingHostedZone: string };
}

/** What a replica Region reads of a DEED parent identity. */
export interface DeedParent {
  name: string;
  origin: 'AWS_SES' | 'EXTERNAL';
  replica: boolean;
  status: DkimStatus;
  tokens: string[];
  signingHostedZone: string;
  nextKeyLength?: KeyLength;
  currentKeyLength?: KeyLength;
  lastKeyGeneration?: Date;
}

/** A custom MAIL FROM domain and what SES's MX checks found. */
interface MailFromState {
  domain: string;
  behavior: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
  status: 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE';
  /** When it was set; FAILED comes a verification window after it without the record. */
  since: Date;
  nextCheckAt: Date;
  generation: number;
  checking?: Promise<void>;
}

/** A verification message SES "sent" to an email address identity. */
export interface MailboxMessage {
  id: string;
  to: string;
  from: string;
  subject: string;
  text: string;
  confirmationUrl: string;
  token: string;
  sentAt: Date;
}

/** What following a confirmation link did. */
export type ConfirmResult =
  | { status: 'confirmed' | 'already-confirmed'; identity: string }
  | { status: 'expired'; identity: string }
  | { status: 'unknown' };

/** One DKIM check SES ran, for progress output. */
export interface DkimCheckEvent {
  identity: string;
  at: Date;
  status: DkimStatus;
  errorType?: DnsCheckError;
}

export interface SesEmulatorOptions {
  now?: Now;
  region?: string;
  /** `host:port` of the DNS servers SES queries (the sandbox DNS server). Unset: the system's. */
  dnsServers?: string[];
  /** Real milliseconds a DNS query may take. Default 1 000. */
  dnsTimeoutMs?: number;
  /** Virtual milliseconds from creation (or a reset) to the first DNS check. Default 1 minute. */
  firstCheckDelayMs?: number;
  /** Virtual milliseconds between DNS checks. Default 5 minutes. */
  checkIntervalMs?: number;
  /** How long SES keeps looking for the records before FAILED. Default 72 hours. */
  verificationWindowMs?: number;
  /** How long an address's confirmation link stays valid. Default 24 hours. */
  emailLinkValidityMs?: number;
  /** Minimum time between two changes of `NextSigningKeyLength`. Default 24 hours. */
  keyChangeIntervalMs?: number;
  /**
   * Virtual milliseconds from a key length change to the generation of the key pair of that
   * length, when `CurrentSigningKeyLength` and `LastKeyGenerationTimestamp` change. SES does not
   * say when it generates the next key; the sandbox takes an hour. Default 1 hour.
   */
  keyGenerationDelayMs?: number;
  /** Base of the confirmation links in verification messages (the sandbox API). */
  apiBaseUrl?: string;
  /** Identities per account before LimitExceededException. Default 10 000. */
  maxIdentities?: number;
  faults?: FaultOptions;
  /**
   * The emulated SES of another Region, for DEED: a replica created here reads its parent there.
   * Unset: this SES knows no other Region, and refuses replicas.
   */
  otherRegion?: (region: string) => SesEmulator | undefined;
}

/**
 * The domains Easy DKIM's CNAMEs point into, where a region has its own
 * (https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_dkim_domains); every other region
 * uses dkim.amazonses.com. SES returns it as `DkimAttributes.SigningHostedZone`.
 */
const REGIONAL_DKIM_DOMAINS: Record<string, string> = {
  'af-south-1': 'dkim.af-south-1.amazonses.com',
  'ap-northeast-3': 'dkim.ap-northeast-3.amazonses.com',
  'ap-south-2': 'dkim.ap-south-2.amazonses.com',
  'ap-southeast-3': 'dkim.ap-southeast-3.amazonses.com',
  'ap-southeast-5': 'dkim.ap-southeast-5.amazonses.com',
  'ca-west-1': 'dkim.ca-west-1.amazonses.com',
  'eu-central-2': 'dkim.eu-central-2.amazonses.com',
  'eu-south-1': 'dkim.eu-south-1.amazonses.com',
  'il-central-1': 'dkim.il-central-1.amazonses.com',
  'me-central-1': 'dkim.me-central-1.amazonses.com',
  'us-gov-east-1': 'dkim.us-gov-east-1.amazonses.com',
};

/** The Easy DKIM hosted zone SES answers with in `region`. */
export function signingHostedZoneFor(region: string): string {
  return REGIONAL_DKIM_DOMAINS[region] ?? 'dkim.amazonses.com';
}

/** The operations the emulated SES serves, as the SDK and botocore call them. */
const SES_ROUTES = [
  { method: 'POST', path: '/v2/email/identities', operation: 'CreateEmailIdentity' },
  // botocore lists with a GET and a query; the newer JavaScript SDK with a POST and a body.
  { method: 'GET', path: '/v2/email/identities', operation: 'ListEmailIdentities' },
  { method: 'POST', path: '/v2/email/list-identities', operation: 'ListEmailIdentities' },
  { method: 'GET', path: '/v2/email/identities/{EmailIdentity}', operation: 'GetEmailIdentity' },
  {
    method: 'DELETE',
    path: '/v2/email/identities/{EmailIdentity}',
    operation: 'DeleteEmailIdentity',
  },
  {
    method: 'PUT',
    path: '/v2/email/identities/{EmailIdentity}/dkim/signing',
    operation: 'PutEmailIdentityDkimSigningAttributes',
  },
  {
    method: 'PUT',
    path: '/v2/email/identities/{EmailIdentity}/dkim',
    operation: 'PutEmailIdentityDkimAttributes',
  },
  {
    method: 'PUT',
    path: '/v2/email/identities/{EmailIdentity}/mail-from',
    operation: 'PutEmailIdentityMailFromAttributes',
  },
  { method: 'POST', path: '/v2/email/configuration-sets', operation: 'CreateConfigurationSet' },
  {
    method: 'GET',
    path: '/v2/email/configuration-sets/{ConfigurationSetName}',
    operation: 'GetConfigurationSet',
  },
  // botocore lists with a GET and a query; the newer JavaScript SDK with a POST and a body.
  { method: 'GET', path: '/v2/email/configuration-sets', operation: 'ListConfigurationSets' },
  { method: 'POST', path: '/v2/email/list-configuration-sets', operation: 'ListConfigurationSets' },
  {
    method: 'DELETE',
    path: '/v2/email/configuration-sets/{ConfigurationSetName}',
    operation: 'DeleteConfigurationSet',
  },
  { method: 'POST', path: '/v2/email/tenants', operation: 'CreateTenant' },
  { method: 'POST', path: '/v2/email/tenants/get', operation: 'GetTenant' },
  { method: 'POST', path: '/v2/email/tenants/list', operation: 'ListTenants' },
  { method: 'POST', path: '/v2/email/tenants/delete', operation: 'DeleteTenant' },
  {
    method: 'POST',
    path: '/v2/email/tenants/resources',
    operation: 'CreateTenantResourceAssociation',
  },
  {
    method: 'POST',
    path: '/v2/email/tenants/resources/delete',
    operation: 'DeleteTenantResourceAssociation',
  },
  { method: 'POST', path: '/v2/email/tenants/resources/list', operation: 'ListTenantResources' },
  { method: 'POST', path: '/v2/email/resources/tenants/list', operation: 'ListResourceTenants' },
] as const satisfies readonly RestRoute[];

/** A list call's `NextToken` and `PageSize`, from the query (GET) or the body (POST). */
function listRequestOf(request: AwsRequest): { PageSize?: unknown; NextToken?: unknown } {
  if (request.method === 'POST') return parseJsonBody(request.body);
  return {
    ...(request.query.has('PageSize') && { PageSize: request.query.get('PageSize') }),
    ...(request.query.has('NextToken') && { NextToken: request.query.get('NextToken') }),
  };
}

function randomToken(): string {
  let token = '';
  for (let i = 0; i < 32; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return token;
}

const notFound = (identity: string) =>
  new AwsServiceError('NotFoundException', `Email identity ${identity} does not exist.`, 404);

function restJsonResponse(body: unknown, status = 200): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

/** SES's REST-JSON error: the SDK reads the class from `x-amzn-errortype`, the text from `message`. */
function restJsonError(error: AwsServiceError): AwsResponse {
  return {
    status: error.status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': `${error.code}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
    },
    body: JSON.stringify({ message: error.message }),
    errorCode: error.code,
  };
}

/** Reads a base64 DER RSA private key (PKCS#1 or PKCS#8) and returns its public half and size. */
function readPrivateKey(base64: string): { publicKeyDer: Buffer; bits: number } {
  if (!BASE64.test(base64)) throw badRequest('Invalid DomainSigningPrivateKey: not base64.');
  const der = Buffer.from(base64, 'base64');
  for (const type of ['pkcs1', 'pkcs8'] as const) {
    try {
      const key = createPrivateKey({ key: der, format: 'der', type });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (key.asymmetricKeyType !== 'rsa' || bits < 1024 || bits > 2048) break;
      const publicKeyDer = createPublicKey(key).export({ format: 'der', type: 'spki' });
      return { publicKeyDer, bits };
    } catch {
      // Try the other encoding.
    }
  }
  // Never echo the key itself.
  throw badRequest(
    'Invalid DomainSigningPrivateKey: expected a base64 RSA private key of 1024 to 2048 bits.',
  );
}

const keyLengthOf = (value: unknown): KeyLength | undefined => {
  if (value === undefined) return undefined;
  if (!KEY_LENGTHS.includes(value as KeyLength)) {
    throw badRequest(
      `Invalid NextSigningKeyLength: ${String(value)}. Valid values: ${KEY_LENGTHS.join(', ')}.`,
    );
  }
  return value as KeyLength;
};

/**
 * Amazon SES v2 (REST-JSON) email identities, modelled on the real service: Easy DKIM tokens and
 * BYODKIM selectors, DKIM status driven by real DNS queries on SES's own schedule (evaluated
 * lazily against the injected clock), address verification through a mailbox, SES's errors in its
 * wire format, and optional throttling and faults.
 */
export class SesEmulator implements EmulatedService {
  readonly signingName = 'ses';
  readonly serviceName = 'sesv2';
  readonly operations = [...new Set(SES_ROUTES.map((route) => route.operation))];
  private readonly identities = new Map<string, IdentityState>();
  private readonly messages: MailboxMessage[] = [];
  private readonly checkListeners = new Set<(event: DkimCheckEvent) => void>();
  private readonly messageListeners = new Set<(message: MailboxMessage) => void>();
  private readonly checker: DkimChecker;
  private readonly faults: FaultInjector;
  private readonly configurationSets: ConfigurationSets;
  private readonly tenants: Tenants;
  private readonly now: Now;
  /** Where Easy DKIM's CNAMEs point in this region. */
  readonly signingHostedZone: string;
  private readonly options: Required<
    Omit<SesEmulatorOptions, 'now' | 'dnsServers' | 'dnsTimeoutMs' | 'faults' | 'otherRegion'>
  >;
  private readonly otherRegion: (region: string) => SesEmulator | undefined;

  constructor(options: SesEmulatorOptions = {}) {
    this.now = options.now ?? systemNow;
    this.otherRegion = options.otherRegion ?? (() => undefined);
    this.checker = new DkimChecker(options.dnsServers, options.dnsTimeoutMs);
    // SES documents one request per second for its identity actions, account-wide: on by
    // default, per operation, on the emulator's clock; `rateLimit: 0` turns it off.
    this.faults = new FaultInjector(
      { ...options.faults, rateLimit: options.faults?.rateLimit ?? 1, rateScope: 'operation' },
      this.now,
    );
    this.signingHostedZone = signingHostedZoneFor(options.region ?? 'us-east-1');
    this.configurationSets = new ConfigurationSets(this.now);
    this.tenants = new Tenants({
      region: options.region ?? 'us-east-1',
      account: ACCOUNT_ID,
      now: this.now,
      resourceExists: (arn) => this.resourceExists(arn),
    });
    this.options = {
      region: options.region ?? 'us-east-1',
      firstCheckDelayMs: options.firstCheckDelayMs ?? 60_000,
      checkIntervalMs: options.checkIntervalMs ?? 5 * 60_000,
      verificationWindowMs: options.verificationWindowMs ?? 72 * HOUR,
      emailLinkValidityMs: options.emailLinkValidityMs ?? 24 * HOUR,
      keyChangeIntervalMs: options.keyChangeIntervalMs ?? 24 * HOUR,
      keyGenerationDelayMs: options.keyGenerationDelayMs ?? HOUR,
      apiBaseUrl: options.apiBaseUrl ?? 'http://127.0.0.1:3000',
      maxIdentities: options.maxIdentities ?? 10_000,
    };
  }

  /** The Region this SES answers as. */
  get region(): string {
    return this.options.region;
  }

  /** A domain identity as a replica Region sees it when it is named as a DEED parent. */
  deedParent(name: string): DeedParent | undefined {
    const identity = this.identities.get(name.toLowerCase());
    if (identity === undefined || identity.type !== 'DOMAIN') return undefined;
    this.generatePendingKey(identity);
    return {
      name: identity.name,
      origin: identity.origin,
      replica: identity.replicaOf !== undefined,
      status: identity.status,
      tokens: [...identity.tokens],
      signingHostedZone: this.signingHostedZone,
      ...(identity.nextKeyLength && { nextKeyLength: identity.nextKeyLength }),
      ...(identity.currentKeyLength && { currentKeyLength: identity.currentKeyLength }),
      ...(identity.lastKeyGeneration && { lastKeyGeneration: identity.lastKeyGeneration }),
    };
  }

  /** Points SES's DNS checks at these servers (`host:port`). */
  setDnsServers(servers: string[]): void {
    this.checker.setServers(servers);
  }

  /** Where the confirmation links of verification messages point (the sandbox API). */
  setApiBaseUrl(url: string): void {
    this.options.apiBaseUrl = url;
  }

  /** Calls `listener` after every DNS check SES runs; returns a function that unsubscribes. */
  onCheck(listener: (event: DkimCheckEvent) => void): () => void {
    this.checkListeners.add(listener);
    return () => this.checkListeners.delete(listener);
  }

  /** Calls `listener` for every verification message SES sends; returns an unsubscribe function. */
  onMessage(listener: (message: MailboxMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** The sandbox mailbox: every verification message sent, oldest first, optionally for one address. */
  mailbox(to?: string): MailboxMessage[] {
    return this.messages.filter((message) => !to || message.to.toLowerCase() === to.toLowerCase());
  }

  /** One message of the mailbox by id. */
  message(id: string): MailboxMessage | undefined {
    return this.messages.find((message) => message.id === id);
  }

  /** Follows a confirmation link: verifies the address if the link is known and still valid. */
  confirm(token: string): ConfirmResult {
    for (const identity of this.identities.values()) {
      if (identity.email?.token !== token) continue;
      if (identity.email.confirmed) return { status: 'already-confirmed', identity: identity.name };
      if (
        this.now().getTime() - identity.email.sentAt.getTime() >
        this.options.emailLinkValidityMs
      ) {
        return { status: 'expired', identity: identity.name };
      }
      identity.email.confirmed = true;
      identity.lastSuccess = this.now();
      return { status: 'confirmed', identity: identity.name };
    }
    return { status: 'unknown' };
  }

  async handle(request: AwsRequest): Promise<AwsResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      if (error instanceof AwsServiceError) return restJsonError(error);
      throw error;
    }
  }

  /** The operation a request calls, from its method and path (REST-JSON). */
  operationOf(request: AwsRequest): string | undefined {
    return matchRestRoute(SES_ROUTES, request.method, request.path)?.operation;
  }

  private async route(request: AwsRequest): Promise<AwsResponse> {
    const route = matchRestRoute(SES_ROUTES, request.method, request.path);
    if (!route) {
      throw new AwsServiceError(
        'UnknownOperationException',
        `The sandbox SES does not implement ${request.method} ${request.path}`,
        404,
      );
    }
    const { operation, parameters } = route;
    const decision = this.faults.decide(operation);
    if (decision === 'throttle') {
      throw new AwsServiceError('TooManyRequestsException', 'Too many requests.', 429);
    }
    if (decision === 'fault-before') {
      throw new AwsServiceError('InternalFailure', 'Internal service failure.', 500);
    }
    const response = await this.dispatch(operation, parameters, request);
    if (decision === 'fault-after') {
      // The operation took effect; its reply is lost.
      throw new AwsServiceError('InternalFailure', 'Internal service failure.', 500);
    }
    return response;
  }

  private async dispatch(
    operation: string,
    parameters: Record<string, string>,
    request: AwsRequest,
  ): Promise<AwsResponse> {
    const identity = parameters.EmailIdentity as string;
    const configurationSet = parameters.ConfigurationSetName as string;
    switch (operation) {
      case 'PutEmailIdentityMailFromAttributes':
        return this.putMailFrom(identity, parseJsonBody(request.body));
      case 'CreateConfigurationSet':
        return restJsonResponse(this.configurationSets.create(parseJsonBody(request.body)));
      case 'GetConfigurationSet':
        return restJsonResponse(this.configurationSets.get(configurationSet));
      case 'ListConfigurationSets':
        return restJsonResponse(this.configurationSets.list(listRequestOf(request)));
      case 'DeleteConfigurationSet':
        this.configurationSets.delete(configurationSet);
        this.tenants.forgetResource(this.arnOf('configuration-set', configurationSet));
        return restJsonResponse({});
      case 'CreateTenant':
        return restJsonResponse(this.tenants.create(parseJsonBody(request.body)));
      case 'GetTenant':
        return restJsonResponse(this.tenants.get(parseJsonBody(request.body)));
      case 'ListTenants':
        return restJsonResponse(this.tenants.list(parseJsonBody(request.body)));
      case 'DeleteTenant':
        return restJsonResponse(this.tenants.delete(parseJsonBody(request.body)));
      case 'CreateTenantResourceAssociation':
        return restJsonResponse(this.tenants.associate(parseJsonBody(request.body)));
      case 'DeleteTenantResourceAssociation':
        return restJsonResponse(this.tenants.disassociate(parseJsonBody(request.body)));
      case 'ListTenantResources':
        return restJsonResponse(this.tenants.listResources(parseJsonBody(request.body)));
      case 'ListResourceTenants':
        return restJsonResponse(this.tenants.listResourceTenants(parseJsonBody(request.body)));
      case 'CreateEmailIdentity':
        return this.create(parseJsonBody(request.body));
      case 'ListEmailIdentities':
        return this.list(listRequestOf(request));
      case 'GetEmailIdentity':
        return this.get(identity);
      case 'DeleteEmailIdentity':
        return this.delete(identity);
      case 'PutEmailIdentityDkimSigningAttributes':
        return this.putSigningAttributes(identity, parseJsonBody(request.body));
      default:
        return this.putDkimAttributes(identity, parseJsonBody(request.body));
    }
  }

  private find(name: string): IdentityState {
    const identity = this.identities.get(name.toLowerCase());
    if (!identity) throw notFound(name);
    return identity;
  }

  /** Starts a fresh verification attempt: PENDING, first check a little later. */
  private resetVerification(identity: IdentityState, at: Date): void {
    identity.status = 'PENDING';
    identity.pendingSince = at;
    identity.nextCheckAt = new Date(at.getTime() + this.options.firstCheckDelayMs);
    identity.errorType = undefined;
    identity.generation += 1;
  }

  private create(body: Record<string, unknown>): AwsResponse {
    const name = body.EmailIdentity;
    if (typeof name !== 'string' || name.length === 0)
      throw badRequest('EmailIdentity is required.');
    const type = name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN';
    if (
      type === 'EMAIL_ADDRESS' ? !EMAIL.test(name) : !isValidDomainName(name) || !name.includes('.')
    ) {
      throw badRequest(`Invalid email identity: ${name}`);
    }
    const key = name.toLowerCase();
    if (this.identities.has(key)) {
      throw new AwsServiceError(
        'AlreadyExistsException',
        `Email identity ${name} already exist.`,
        400,
      );
    }
    if (this.identities.size >= this.options.maxIdentities) {
      throw new AwsServiceError(
        'LimitExceededException',
        'Maximum number of identities exceeded.',
        400,
      );
    }
    const tags = validateTags(body.Tags);
    // SES answers NotFoundException for a default configuration set that does not exist.
    if (
      typeof body.ConfigurationSetName === 'string' &&
      !this.configurationSets.has(body.ConfigurationSetName)
    ) {
      throw configurationSetNotFound(body.ConfigurationSetName);
    }
    const attributes = body.DkimSigningAttributes as Record<string, unknown> | undefined;
    if (attributes !== undefined && type === 'EMAIL_ADDRESS') {
      throw badRequest('DkimSigningAttributes can only be set for a domain identity.');
    }
    const selector = attributes?.DomainSigningSelector;
    const privateKey = attributes?.DomainSigningPrivateKey;
    const now = this.now();
    const identity: IdentityState = {
      name: type === 'DOMAIN' ? key : name,
      type,
      createdAt: now,
      tags,
      signingEnabled: type === 'DOMAIN',
      origin: 'AWS_SES',
      tokens: [],
      status: 'NOT_STARTED',
      pendingSince: now,
      generation: 0,
      ...(typeof body.ConfigurationSetName === 'string' && {
        configurationSetName: body.ConfigurationSetName,
      }),
    };
    const replicaOrigin = attributes?.DomainSigningAttributesOrigin;
    if (replicaOrigin !== undefined && replicaOrigin !== 'AWS_SES') {
      this.replicate(identity, attributes as Record<string, unknown>);
      this.resetVerification(identity, now);
    } else if (type === 'DOMAIN') {
      if (selector !== undefined || privateKey !== undefined) {
        this.useExternalKey(identity, selector, privateKey);
      } else {
        identity.tokens = [randomToken(), randomToken(), randomToken()];
        identity.nextKeyLength = keyLengthOf(attributes?.NextSigningKeyLength) ?? 'RSA_2048_BIT';
        identity.currentKeyLength = identity.nextKeyLength;
        identity.lastKeyGeneration = now;
      }
      this.resetVerification(identity, now);
    } else {
      this.sendVerificationMessage(identity, now);
    }
    this.identities.set(key, identity);
    return restJsonResponse({
      IdentityType: type,
      VerifiedForSendingStatus: false,
      DkimAttributes: this.dkimAttributes(identity),
    });
  }

  /**
   * A DEED replica of the parent identity in the Region `DomainSigningAttributesOrigin` names
   * (`AWS_SES_US_EAST_1`): the parent's tokens and key lengths, verified by the parent's CNAMEs
   * (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-deed.html). SES
   * documents that the parent must be a verified Easy DKIM identity and that the value is
   * allowed for CreateEmailIdentity only; the exception names and wording of its refusals are
   * the sandbox's own.
   */
  private replicate(identity: IdentityState, attributes: Record<string, unknown>): void {
    const origin = attributes.DomainSigningAttributesOrigin;
    if (typeof origin !== 'string' || !/^AWS_SES_[A-Z0-9_]+$/.test(origin)) {
      throw badRequest(`Invalid DomainSigningAttributesOrigin: ${String(origin)}`);
    }
    const parentRegion = origin.slice('AWS_SES_'.length).toLowerCase().replace(/_/g, '-');
    const others = Object.keys(attributes).filter((key) => key !== 'DomainSigningAttributesOrigin');
    if (others.length > 0) {
      throw badRequest(
        `DomainSigningAttributesOrigin ${origin} cannot be combined with ${others.join(', ')}.`,
      );
    }
    if (identity.type !== 'DOMAIN') {
      throw badRequest('DkimSigningAttributes can only be set for a domain identity.');
    }
    if (parentRegion === this.options.region) {
      throw badRequest(
        `DomainSigningAttributesOrigin ${origin} names this Region: a replica's parent is in another Region.`,
      );
    }
    const parent = this.otherRegion(parentRegion)?.deedParent(identity.name);
    if (parent === undefined) {
      throw badRequest(
        `No parent identity ${identity.name} in ${parentRegion} to replicate DKIM signing from.`,
      );
    }
    if (parent.origin !== 'AWS_SES' || parent.replica || parent.status !== 'SUCCESS') {
      throw badRequest(
        `The parent identity ${identity.name} in ${parentRegion} must be a verified Easy DKIM identity (it is ${parent.replica ? 'a replica' : parent.origin === 'EXTERNAL' ? 'BYODKIM' : `Easy DKIM, ${parent.status}`}).`,
      );
    }
    identity.tokens = parent.tokens;
    identity.replicaOf = { origin, signingHostedZone: parent.signingHostedZone };
    if (parent.nextKeyLength) identity.nextKeyLength = parent.nextKeyLength;
    if (parent.currentKeyLength) identity.currentKeyLength = parent.currentKeyLength;
    if (parent.lastKeyGeneration) identity.lastKeyGeneration = parent.lastKeyGeneration;
  }

  private useExternalKey(identity: IdentityState, selector: unknown, privateKey: unknown): void {
    if (typeof selector !== 'string' || !SELECTOR.test(selector) || selector.length > 63) {
      throw badRequest('Invalid DomainSigningSelector.');
    }
    if (typeof privateKey !== 'string' || privateKey.length === 0) {
      throw badRequest('DomainSigningPrivateKey is required with DomainSigningSelector.');
    }
    identity.publicKeyDer = readPrivateKey(privateKey).publicKeyDer;
    identity.origin = 'EXTERNAL';
    identity.tokens = [selector];
    // The key lengths and key generation SES reports are Easy DKIM's.
    identity.nextKeyLength = undefined;
    identity.currentKeyLength = undefined;
    identity.lastKeyGeneration = undefined;
    identity.keyGenerationAt = undefined;
    identity.lastKeyLengthChange = undefined;
  }

  /** Generates the pending Easy DKIM key pair if its time has come. */
  private generatePendingKey(identity: IdentityState): void {
    const due = identity.keyGenerationAt;
    if (!due || due.getTime() > this.now().getTime()) return;
    identity.currentKeyLength = identity.nextKeyLength;
    identity.lastKeyGeneration = due;
    identity.keyGenerationAt = undefined;
  }

  private sendVerificationMessage(identity: IdentityState, at: Date): void {
    const token = randomUUID();
    identity.email = { token, sentAt: at, confirmed: false };
    const confirmationUrl = `${this.options.apiBaseUrl}/sandbox/confirm/${token}`;
    const message: MailboxMessage = {
      id: randomUUID(),
      to: identity.name,
      from: 'no-reply-aws@amazon.com',
      subject: `Amazon Web Services – Email Address Verification Request in region ${this.options.region}`,
      text: [
        'Dear Amazon Web Services Customer,',
        '',
        `We have received a request to authorize this email address for use with Amazon SES in region ${this.options.region}.`,
        'If you requested this verification, please go to the following URL to confirm that you are authorized to use this email address:',
        '',
        confirmationUrl,
        '',
        'Your request will not be processed unless you confirm the address using this URL. This link expires 24 hours after your original verification request.',
      ].join('\n'),
      confirmationUrl,
      token,
      sentAt: at,
    };
    this.messages.push(message);
    for (const listener of this.messageListeners) listener(message);
  }

  /** Runs the DNS check if one is due at the current (virtual) time; concurrent reads share it. */
  private async refresh(identity: IdentityState): Promise<void> {
    if (identity.type !== 'DOMAIN') return;
    if (identity.checking) return identity.checking;
    const at = this.now();
    if (!identity.nextCheckAt || at.getTime() < identity.nextCheckAt.getTime()) return;
    identity.checking = this.runCheck(identity, at).finally(() => {
      identity.checking = undefined;
    });
    return identity.checking;
  }

  private async runCheck(identity: IdentityState, at: Date): Promise<void> {
    const generation = identity.generation;
    const domain = identity.name;
    const [result, soa] = await Promise.all([
      identity.origin === 'AWS_SES'
        ? this.checker.check({
            origin: 'AWS_SES',
            domain,
            tokens: identity.tokens,
            signingHostedZone: identity.replicaOf?.signingHostedZone ?? this.signingHostedZone,
          })
        : this.checker.check({
            origin: 'EXTERNAL',
            domain,
            selector: identity.tokens[0] as string,
            publicKeyDer: identity.publicKeyDer as Buffer,
          }),
      this.checker.soa(domain),
    ]);
    // Deleted or reset while the queries ran: this result describes records nobody asks about.
    if (this.identities.get(domain) !== identity || identity.generation !== generation) return;
    identity.lastChecked = at;
    if (soa) identity.soa = soa;
    if (result.ok) {
      identity.status = 'SUCCESS';
      identity.lastSuccess = at;
      identity.errorType = undefined;
      identity.nextCheckAt = undefined;
    } else {
      identity.errorType = result.errorType;
      if (at.getTime() - identity.pendingSince.getTime() >= this.options.verificationWindowMs) {
        identity.status = 'FAILED';
        identity.nextCheckAt = undefined;
      } else {
        identity.status = result.errorType === 'DNS_SERVER_ERROR' ? 'TEMPORARY_FAILURE' : 'PENDING';
        identity.nextCheckAt = new Date(at.getTime() + this.options.checkIntervalMs);
      }
    }
    const event: DkimCheckEvent = {
      identity: identity.name,
      at,
      status: identity.status,
      ...(identity.errorType && { errorType: identity.errorType }),
    };
    for (const listener of this.checkListeners) listener(event);
  }

  private verificationStatus(identity: IdentityState): DkimStatus {
    if (identity.type === 'DOMAIN') return identity.status;
    const email = identity.email;
    if (!email) return 'NOT_STARTED';
    if (email.confirmed) return 'SUCCESS';
    const expired =
      this.now().getTime() - email.sentAt.getTime() > this.options.emailLinkValidityMs;
    return expired ? 'FAILED' : 'PENDING';
  }

  private verifiedForSending(identity: IdentityState): boolean {
    return this.verificationStatus(identity) === 'SUCCESS';
  }

  private dkimAttributes(identity: IdentityState): Record<string, unknown> {
    this.generatePendingKey(identity);
    if (identity.type === 'EMAIL_ADDRESS') {
      // An address has no DKIM of its own; it would inherit its domain's.
      return {
        SigningEnabled: false,
        Status: 'NOT_STARTED',
        Tokens: [],
        SigningAttributesOrigin: 'AWS_SES',
      };
    }
    return {
      SigningEnabled: identity.signingEnabled,
      Status: identity.status,
      Tokens: identity.tokens,
      SigningAttributesOrigin: identity.replicaOf?.origin ?? identity.origin,
      ...(identity.origin === 'AWS_SES' && {
        SigningHostedZone: identity.replicaOf?.signingHostedZone ?? this.signingHostedZone,
      }),
      ...(identity.nextKeyLength && { NextSigningKeyLength: identity.nextKeyLength }),
      ...(identity.currentKeyLength && { CurrentSigningKeyLength: identity.currentKeyLength }),
      ...(identity.lastKeyGeneration && {
        LastKeyGenerationTimestamp: epochSeconds(identity.lastKeyGeneration),
      }),
    };
  }

  private async get(name: string): Promise<AwsResponse> {
    const identity = this.find(name);
    await Promise.all([this.refresh(identity), this.refreshMailFrom(identity)]);
    const lastChecked = identity.type === 'DOMAIN' ? identity.lastChecked : identity.email?.sentAt;
    return restJsonResponse({
      IdentityType: identity.type,
      FeedbackForwardingStatus: true,
      VerifiedForSendingStatus: this.verifiedForSending(identity),
      DkimAttributes: this.dkimAttributes(identity),
      Policies: {},
      Tags: identity.tags,
      ...(identity.configurationSetName && { ConfigurationSetName: identity.configurationSetName }),
      ...(identity.mailFrom && {
        MailFromAttributes: {
          MailFromDomain: identity.mailFrom.domain,
          MailFromDomainStatus: identity.mailFrom.status,
          BehaviorOnMxFailure: identity.mailFrom.behavior,
        },
      }),
      VerificationStatus: this.verificationStatus(identity),
      VerificationInfo: {
        ...(lastChecked && { LastCheckedTimestamp: epochSeconds(lastChecked) }),
        ...(identity.lastSuccess && { LastSuccessTimestamp: epochSeconds(identity.lastSuccess) }),
        ...(identity.errorType && { ErrorType: identity.errorType }),
        ...(identity.soa && { SOARecord: identity.soa }),
      },
    });
  }

  private async list(request: { PageSize?: unknown; NextToken?: unknown }): Promise<AwsResponse> {
    const { page, nextToken } = pageOf(
      [...this.identities.values()],
      (identity) => identity.name.toLowerCase(),
      request,
      { fallback: 100, max: 1000 },
    );
    await Promise.all(page.map((identity) => this.refresh(identity)));
    return restJsonResponse({
      EmailIdentities: page.map((identity) => ({
        IdentityType: identity.type,
        IdentityName: identity.name,
        SendingEnabled: this.verifiedForSending(identity),
        VerificationStatus: this.verificationStatus(identity),
      })),
      ...(nextToken && { NextToken: nextToken }),
    });
  }

  private delete(name: string): AwsResponse {
    const identity = this.find(name);
    this.identities.delete(name.toLowerCase());
    this.tenants.forgetResource(this.arnOf('identity', identity.name));
    return restJsonResponse({});
  }

  /** `arn:aws:ses:region:account:identity/example.com`, and so on. */
  private arnOf(kind: 'identity' | 'configuration-set', name: string): string {
    return `arn:aws:ses:${this.options.region}:${ACCOUNT_ID}:${kind}/${name}`;
  }

  /** Whether a resource a tenant may hold exists: an identity or a configuration set. */
  private resourceExists(arn: string): boolean {
    const [, partition, service, region, account, resource = ''] = arn.split(':');
    if (partition !== 'aws' || service !== 'ses') return false;
    if (region !== this.options.region || account !== ACCOUNT_ID) return false;
    const slash = resource.indexOf('/');
    const [kind, name] = [resource.slice(0, slash), resource.slice(slash + 1)];
    if (kind === 'identity') return this.identities.has(name.toLowerCase());
    if (kind === 'configuration-set') return this.configurationSets.has(name);
    return false;
  }

  /**
   * PutEmailIdentityMailFromAttributes: a custom MAIL FROM domain, a subdomain of the identity,
   * checked by SES through its MX record on the same schedule as DKIM; an empty domain turns it
   * off (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutEmailIdentityMailFromAttributes.html).
   */
  private putMailFrom(name: string, body: Record<string, unknown>): AwsResponse {
    const identity = this.find(name);
    const domain = body.MailFromDomain;
    if (domain === undefined || domain === null || domain === '') {
      identity.mailFrom = undefined;
      return restJsonResponse({});
    }
    const parent =
      identity.type === 'DOMAIN'
        ? identity.name
        : (identity.name.split('@')[1] ?? '').toLowerCase();
    if (
      typeof domain !== 'string' ||
      !isValidDomainName(domain) ||
      !domain.toLowerCase().endsWith(`.${parent}`)
    ) {
      throw badRequest(`The MAIL FROM domain must be a subdomain of ${parent}.`);
    }
    const behavior = body.BehaviorOnMxFailure ?? 'USE_DEFAULT_VALUE';
    if (behavior !== 'USE_DEFAULT_VALUE' && behavior !== 'REJECT_MESSAGE') {
      throw badRequest(`Invalid BehaviorOnMxFailure: ${String(behavior)}.`);
    }
    const now = this.now();
    identity.mailFrom = {
      domain: domain.toLowerCase(),
      behavior,
      status: 'PENDING',
      since: now,
      nextCheckAt: new Date(now.getTime() + this.options.firstCheckDelayMs),
      generation: (identity.mailFrom?.generation ?? 0) + 1,
    };
    return restJsonResponse({});
  }

  /** Runs the MAIL FROM check if one is due; concurrent reads share it. */
  private async refreshMailFrom(identity: IdentityState): Promise<void> {
    const mailFrom = identity.mailFrom;
    if (!mailFrom) return;
    if (mailFrom.checking) return mailFrom.checking;
    const at = this.now();
    if (at.getTime() < mailFrom.nextCheckAt.getTime()) return;
    mailFrom.checking = this.checker
      .checkMailFromMx(mailFrom.domain, this.options.region)
      .then((result) => {
        // Changed or turned off while the query ran: the result is about another setting.
        if (identity.mailFrom !== mailFrom) return;
        if (result.ok) {
          mailFrom.status = 'SUCCESS';
        } else if (result.errorType === 'DNS_SERVER_ERROR') {
          mailFrom.status = 'TEMPORARY_FAILURE';
        } else if (
          mailFrom.status === 'SUCCESS' ||
          at.getTime() - mailFrom.since.getTime() >= this.options.verificationWindowMs
        ) {
          // "can't find the required MX record, or the record no longer exists"
          mailFrom.status = 'FAILED';
        }
        // SES keeps looking, so a record added late, or fixed, still counts.
        mailFrom.nextCheckAt = new Date(at.getTime() + this.options.checkIntervalMs);
      })
      .finally(() => {
        mailFrom.checking = undefined;
      });
    return mailFrom.checking;
  }

  private putSigningAttributes(name: string, body: Record<string, unknown>): AwsResponse {
    const identity = this.find(name);
    if (identity.type !== 'DOMAIN')
      throw badRequest('DKIM signing attributes can only be set for a domain identity.');
    const origin = body.SigningAttributesOrigin;
    const attributes = (body.SigningAttributes ?? {}) as Record<string, unknown>;
    const now = this.now();
    if (origin === 'EXTERNAL') {
      this.useExternalKey(
        identity,
        attributes.DomainSigningSelector,
        attributes.DomainSigningPrivateKey,
      );
      this.resetVerification(identity, now);
    } else if (origin === 'AWS_SES') {
      const requested = keyLengthOf(attributes.NextSigningKeyLength);
      if (identity.origin === 'EXTERNAL') {
        // Leaving BYODKIM: SES makes a new Easy DKIM key pair, so new tokens and new records.
        identity.origin = 'AWS_SES';
        identity.publicKeyDer = undefined;
        identity.tokens = [randomToken(), randomToken(), randomToken()];
        identity.nextKeyLength = requested ?? 'RSA_2048_BIT';
        identity.currentKeyLength = identity.nextKeyLength;
        identity.lastKeyGeneration = now;
        this.resetVerification(identity, now);
      } else if (requested !== undefined) {
        this.changeNextKeyLength(identity, requested, now);
      }
    } else {
      throw badRequest(
        `Invalid SigningAttributesOrigin: ${String(origin)}. The sandbox supports AWS_SES and EXTERNAL.`,
      );
    }
    return restJsonResponse({
      DkimStatus: identity.status,
      DkimTokens: identity.tokens,
      ...(identity.origin === 'AWS_SES' && { SigningHostedZone: this.signingHostedZone }),
    });
  }

  /**
   * Easy DKIM's key length, as SES documents it: `NextSigningKeyLength` is the length of the
   * *future* key pair and "can be changed at most once per day"; `CurrentSigningKeyLength` is the
   * pair in use and `LastKeyGenerationTimestamp` when it was made
   * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html). A change
   * to the length already configured is refused, and so is a second change within 24 hours of
   * the last; the first change after creation is allowed
   * (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim.html, "DKIM signing
   * key length"). The new pair is generated later, behind the same CNAMEs: only then do the
   * current length and the generation time move.
   */
  private changeNextKeyLength(identity: IdentityState, requested: KeyLength, now: Date): void {
    this.generatePendingKey(identity);
    if (requested === identity.nextKeyLength) {
      throw badRequest(`The next signing key length is already ${requested}.`);
    }
    const last = identity.lastKeyLengthChange;
    if (last && now.getTime() - last.getTime() < this.options.keyChangeIntervalMs) {
      throw badRequest(
        `The signing key length can be changed at most once a day; it was last changed at ${last.toISOString()}.`,
      );
    }
    identity.nextKeyLength = requested;
    identity.lastKeyLengthChange = now;
    identity.keyGenerationAt = new Date(now.getTime() + this.options.keyGenerationDelayMs);
  }

  private putDkimAttributes(name: string, body: Record<string, unknown>): AwsResponse {
    const identity = this.find(name);
    if (identity.type !== 'DOMAIN')
      throw badRequest('DKIM can only be enabled or disabled for a domain identity.');
    if (body.SigningEnabled !== undefined && typeof body.SigningEnabled !== 'boolean') {
      throw badRequest('SigningEnabled must be a boolean.');
    }
    identity.signingEnabled = body.SigningEnabled === true;
    return restJsonResponse({});
  }
}
