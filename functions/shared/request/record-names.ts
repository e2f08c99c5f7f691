/**
 * The DNS names a request will make us (or a person) publish, known before any AWS call, so that
 * a request whose records cannot exist in DNS is refused at once instead of creating an SES
 * identity that can never verify.
 */

/** A name is at most 253 characters in its text form without the root dot (RFC 1035 §2.3.4). */
export const MAX_DNS_NAME_LENGTH = 253;

/** Easy DKIM tokens are 32 base32 characters (`[a-z2-7]{32}`), as SES returns them. */
export const EASY_DKIM_TOKEN_LENGTH = 32;

/**
 * The longest selector the workflow picks for a BYODKIM change that names none: `ses-YYYYMMDD`,
 * then `ses-YYYYMMDD-2` and up for more rotations on the same day (ChangeDkimSigning).
 */
export const LONGEST_PICKED_SELECTOR = 'ses-yyyymmdd-nn';

const DOMAINKEY = '._domainkey.';

/** How a domain identity will sign, which decides the DKIM record names. */
export type DkimNamePlan =
  | { origin: 'AWS_SES' }
  | { origin: 'EXTERNAL'; selector: string }
  /** BYODKIM with a selector the workflow picks (a DKIM change that names none). */
  | { origin: 'EXTERNAL'; selector: null };

/** Everything about a domain request that decides the names of its records. */
export interface RecordNamePlan {
  /** The domain in its ASCII form, as validated. */
  domain: string;
  dkim: DkimNamePlan;
  /**
   * The custom MAIL FROM domain (a subdomain of `domain`), once requests carry one: its MX and
   * SPF TXT records sit at that name itself, so it joins the names checked here.
   */
  mailFromDomain?: string;
}

/** One record name a request will produce: a template a person can read, and its length. */
export interface PlannedRecordName {
  template: string;
  length: number;
  /** What must shorten, and to how much, for the name to fit in DNS. */
  limit: string;
}

/** The names of every record the plan produces, DKIM first. */
export function plannedRecordNames(plan: RecordNamePlan): PlannedRecordName[] {
  const { dkim, domain } = plan;
  // Room left for the domain once the labels in front of it are counted.
  const roomBeside = (prefix: number) => MAX_DNS_NAME_LENGTH - prefix - DOMAINKEY.length;
  const names: PlannedRecordName[] = [];
  if (dkim.origin === 'AWS_SES') {
    names.push({
      template: '{token}._domainkey.{domain}',
      length: EASY_DKIM_TOKEN_LENGTH + DOMAINKEY.length + domain.length,
      limit: `a domain with Easy DKIM has at most ${roomBeside(EASY_DKIM_TOKEN_LENGTH)} characters`,
    });
  } else if (dkim.selector !== null) {
    names.push({
      template: '{selector}._domainkey.{domain}',
      length: dkim.selector.length + DOMAINKEY.length + domain.length,
      limit: `with a ${dkim.selector.length}-character selector a domain has at most ${roomBeside(dkim.selector.length)} characters`,
    });
  } else {
    const picked = LONGEST_PICKED_SELECTOR.length;
    names.push({
      template: '{selector}._domainkey.{domain}',
      length: picked + DOMAINKEY.length + domain.length,
      limit: `the workflow picks a selector of up to ${picked} characters, so a domain has at most ${roomBeside(picked)}`,
    });
  }
  if (plan.mailFromDomain !== undefined) {
    names.push({
      template: '{mail-from domain}',
      length: plan.mailFromDomain.length,
      limit: `a MAIL FROM domain has at most ${MAX_DNS_NAME_LENGTH} characters`,
    });
  }
  return names;
}

/**
 * Why the plan's records cannot exist in DNS: one message per name over 253 characters, saying
 * what may be how long. Labels need no check here: a token, a selector and `_domainkey` are each
 * one label within 63 characters, and the domain's own labels are checked with the domain.
 */
export function recordNameProblems(plan: RecordNamePlan): string[] {
  return plannedRecordNames(plan)
    .filter((name) => name.length > MAX_DNS_NAME_LENGTH)
    .map(
      (name) =>
        `is too long for its records: "${name.template}" would be ${name.length} characters, and DNS allows ${MAX_DNS_NAME_LENGTH}; ${name.limit}`,
    );
}
