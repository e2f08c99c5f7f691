import type { AwsRequest, AwsResponse, EmulatedService } from '#sandbox/aws/service.js';
import { SesEmulator, type SesEmulatorOptions } from './ses.js';

// `Credential=AKID/20260101/eu-west-1/ses/aws4_request`: the third scope part is the Region.
const CREDENTIAL_REGION = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/;

/** The Region a request was signed for, from its SigV4 credential scope (header or presigned query). */
export function signingRegionOf(request: AwsRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization) return CREDENTIAL_REGION.exec(authorization)?.[1];
  return request.query.get('X-Amz-Credential')?.split('/')[2];
}

/**
 * SES in every Region, behind the sandbox's one endpoint: AWS serves each Region at its own host
 * (email.eu-west-1.amazonaws.com), the sandbox tells them apart by the Region of the request's
 * SigV4 credential scope, which the SDK and the CLI sign for the client's Region. Each Region is
 * an SesEmulator of its own (identities, rate limit, SigningHostedZone), made on its first
 * request; the home Region's is the one the rest of the sandbox reads (mailbox, console). A
 * replica created in one Region finds its DEED parent in another through `otherRegion`.
 */
export class RegionalSes implements EmulatedService {
  readonly signingName = 'ses';
  readonly serviceName = 'sesv2';
  readonly operations: readonly string[];
  private readonly regions = new Map<string, SesEmulator>();
  private dnsServers: string[] | undefined;

  constructor(
    readonly home: SesEmulator,
    private readonly options: Omit<SesEmulatorOptions, 'region' | 'otherRegion'>,
  ) {
    this.operations = home.operations;
    this.regions.set(home.region, home);
    this.dnsServers = options.dnsServers;
  }

  /** The emulated SES of `region`, made on first use with the home Region's settings. */
  region(region: string): SesEmulator {
    let ses = this.regions.get(region);
    if (ses === undefined) {
      ses = new SesEmulator({
        ...this.options,
        ...(this.dnsServers && { dnsServers: this.dnsServers }),
        region,
        otherRegion: (other) => this.regions.get(other),
      });
      this.regions.set(region, ses);
    }
    return ses;
  }

  /** The emulated SES of `region` if it has one (a DEED parent's Region), without making one. */
  existing(region: string): SesEmulator | undefined {
    return this.regions.get(region);
  }

  /** The Regions that have an emulated SES so far, home first. */
  knownRegions(): string[] {
    return [...this.regions.keys()];
  }

  /** Points every Region's DNS checks at these servers, those made later too. */
  setDnsServers(servers: string[]): void {
    this.dnsServers = servers;
    for (const ses of this.regions.values()) ses.setDnsServers(servers);
  }

  operationOf(request: AwsRequest): string | undefined {
    return this.home.operationOf(request);
  }

  handle(request: AwsRequest): Promise<AwsResponse> {
    const region = signingRegionOf(request);
    return (region === undefined ? this.home : this.region(region)).handle(request);
  }
}
