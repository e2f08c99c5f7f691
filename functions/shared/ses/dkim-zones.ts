/**
 * Where Easy DKIM CNAMEs point. SES returns it with every identity as
 * `DkimAttributes.SigningHostedZone`, and its API reference says the CNAME targets must point
 * into that zone ("the hosted zone portion may vary by Region and cell"): the records are built
 * from it. This table, SES's documented Regions whose DKIM domain is not dkim.amazonses.com (the
 * "Easy DKIM domains" of the SES endpoints in the AWS General Reference), is only a fallback for
 * an answer without the field.
 */
const REGIONAL_SIGNING_ZONES: Record<string, string> = {
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

/** The zone of every other commercial Region. */
export const DEFAULT_SIGNING_ZONE = 'dkim.amazonses.com';

/**
 * The zone Easy DKIM CNAMEs point into: what SES said, else the documented zone of the Region
 * the function runs in (AWS_REGION, which Lambda sets).
 */
export function signingHostedZone(
  fromSes: string | null | undefined,
  region = process.env.AWS_REGION,
): string {
  if (fromSes !== undefined && fromSes !== null && fromSes !== '')
    return fromSes.toLowerCase().replace(/\.$/, '');
  return REGIONAL_SIGNING_ZONES[region ?? ''] ?? DEFAULT_SIGNING_ZONE;
}
