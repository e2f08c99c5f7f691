import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { ManualDnsProvider } from '#shared/dns/manual-provider.js';
import { lookupTxt } from '#shared/dns/probe.js';
import { probeOptionsFromEnv } from '#shared/dns/probe-config.js';
import { DEFAULT_DKIM_TTL } from '#shared/dns/records.js';
import { Route53DnsProvider } from '#shared/dns/route53-provider.js';
import { integerEnv, optionalEnv, requireEnv } from '#shared/runtime/config.js';
import { lambdaHandler, logger, metrics } from '#shared/runtime/observability.js';
import { ValidationError } from '#shared/workflow/errors.js';
import type { CreatedIdentity } from '#shared/workflow/types.js';
import { publishDkimRecords } from './publish.js';

const settings = {
  // Route 53 usually reports INSYNC within a minute; keep the Lambda timeout above this bound.
  providers: [new Route53DnsProvider({ changeWaitMs: integerEnv('DNS_CHANGE_WAIT_MS', 60_000) })],
  fallback: new ManualDnsProvider(),
  ttl: integerEnv('DNS_RECORD_TTL', DEFAULT_DKIM_TTL),
  defaultHostedZoneId: optionalEnv('DEFAULT_HOSTED_ZONE_ID') ?? null,
  region: requireEnv('AWS_REGION'),
  lookupTxt: (name: string) => lookupTxt(name, probeOptionsFromEnv()),
};

/** The part of CreateIdentity's output this step reads; the rest passes through untouched. */
const createdIdentitySchema = z.looseObject({
  identity: z.string().check(z.minLength(1)),
  identity_type: z.enum(['DOMAIN', 'EMAIL_ADDRESS']),
  dkim: z.nullable(
    z.looseObject({
      origin: z.enum(['AWS_SES', 'EXTERNAL']),
      tokens: z.array(z.string()),
      selector: z.nullable(z.string()),
      public_key: z.nullable(z.string()),
    }),
  ),
  dns: z.object({
    provider: z.nullable(z.enum(['route53', 'manual'])),
    hosted_zone_id: z.nullable(z.string()),
  }),
});

// zod/mini loads no locale; its English messages keep this step's errors as they were.
const englishMessages = en().localeError;

/** PublishDnsRecords: CreateIdentity's output in, the records and where they went out. */
export const handler = lambdaHandler(async (event: CreatedIdentity) => {
  const parsed = createdIdentitySchema.safeParse(event, { error: englishMessages });
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
    );
  }
  const result = await publishDkimRecords(event, settings);
  logger.info('DNS records published', {
    identity: event.identity,
    provider: result.provider,
    providerReason: result.provider_reason,
    hostedZoneId: result.hosted_zone_id,
    written: result.written,
    changeId: result.change_id,
    records: result.zone_file,
    dmarc: result.dmarc?.action ?? null,
  });
  metrics.addMetric(
    result.written ? 'DnsRecordsWritten' : 'DnsRecordsRequired',
    MetricUnit.Count,
    1,
  );
  return result;
});
