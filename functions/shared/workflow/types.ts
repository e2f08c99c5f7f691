/**
 * What the steps hand each other through the state machine. Everything here is the event and API
 * vocabulary: snake_case, JSON-safe, and never a private key. The ASL reads these fields by path,
 * so a field that may be absent is `null` instead (a missing JSONPath fails the state).
 */

export type IdentityType = 'DOMAIN' | 'EMAIL_ADDRESS';
export type DkimOrigin = 'AWS_SES' | 'EXTERNAL';
export type DkimKeyLength = 'RSA_1024_BIT' | 'RSA_2048_BIT';
export type DkimStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';

/** The request's DNS preferences, normalised (DESIGN.md "Request", our `Dns` extension). */
export interface DnsPreference {
  provider: 'route53' | 'manual' | null;
  hosted_zone_id: string | null;
}

/** DKIM as SES reports it for a domain identity. */
export interface DkimSummary {
  origin: DkimOrigin;
  /** Easy DKIM: the three tokens. BYODKIM: empty. */
  tokens: string[];
  /** BYODKIM: the selector. Easy DKIM: null. */
  selector: string | null;
  status: DkimStatus;
  current_signing_key_length: DkimKeyLength | null;
  next_signing_key_length: DkimKeyLength | null;
  /** BYODKIM: base64 SubjectPublicKeyInfo (DER) of the signing key, for the TXT record. */
  public_key: string | null;
  /**
   * Easy DKIM: the zone the CNAMEs point into (SES's SigningHostedZone: it varies by Region and
   * cell). Absent: the Region's documented zone (see shared/ses/dkim-zones).
   */
  signing_hosted_zone?: string | null;
  /**
   * A DEED replica (`DomainSigningAttributesOrigin` in the request): the Region of the parent
   * identity, whose CNAMEs sign for this one, so `tokens` is empty. Absent otherwise.
   */
  parent_region?: string | null;
}

/** One side of a DKIM signing change: what the identity signs with. `origin` null: no DKIM. */
export interface DkimSigning {
  origin: DkimOrigin | null;
  selector: string | null;
  tokens: string[];
  signing_key_length: DkimKeyLength | null;
}

/** The DKIM signing changes SES's PutEmailIdentityDkimSigningAttributes allows. */
export type DkimChangeKind =
  | 'ENABLE_EASY_DKIM'
  | 'ENABLE_BYODKIM'
  | 'EASY_DKIM_TO_BYODKIM'
  | 'BYODKIM_TO_EASY_DKIM'
  | 'BYODKIM_KEY_ROTATION'
  | 'EASY_DKIM_KEY_LENGTH'
  | 'NO_CHANGE';

/** What a ChangeDkimSigning run changed, and which records it made stale. */
export interface DkimChange {
  kind: DkimChangeKind;
  from: DkimSigning;
  to: DkimSigning;
  /**
   * Records of the old signing that the new one no longer uses: kept for the grace period after
   * SUCCESS (mail signed with the old key may still be in delivery queues), then removed.
   */
  stale_records: StaleRecord[];
  /** Which of them the stack published, and where: only those does it ever remove. */
  stale_removal: StaleRecordRemoval;
  /**
   * When SES was switched (PutEmailIdentityDkimSigningAttributes); null while the new records
   * are being published and seen in DNS first, so SES still signs as before.
   */
  switched_at: string | null;
}

/** The old signing's records, split by who published them (the registry's record of the old run). */
export interface StaleRecordRemoval {
  /** The provider that published the old records; null when the stack did not (manual DNS). */
  provider: 'route53' | null;
  hosted_zone_id: string | null;
  hosted_zone_name: string | null;
  /** Stale records the stack published: the stale-record remover deletes them after the grace period. */
  records: StaleRecord[];
  /** Stale records the stack did not publish: listed for a person to remove, never touched. */
  by_hand: StaleRecord[];
}

/** A record to remove, by name and type: its value is whatever DNS holds (SES keeps no copy of an old BYODKIM public key). */
export interface StaleRecord {
  type: 'CNAME' | 'TXT';
  name: string;
}

/**
 * How a run started SES's verification again for an identity that already existed: SES had
 * given up (FAILED), an address's link had expired, or SES held a key the request does not.
 */
export interface VerificationRestart {
  /** RECREATED: deleted and created again (new tokens, a new link); KEY_RESENT, NEW_KEY: BYODKIM. */
  method: 'RECREATED' | 'KEY_RESENT' | 'NEW_KEY';
  reason: string;
}

/** Output of CreateIdentity (and of ChangeDkimSigning, which also fills `change`). */
export interface CreatedIdentity {
  identity: string;
  identity_type: IdentityType;
  /**
   * When SES started looking for these DKIM records: the identity's creation (or, when adopted,
   * this run's adoption), or the DKIM change. ISO 8601; the 72-hour deadline counts from it.
   */
  created_at: string;
  /** True when the identity already existed and matched the request. */
  adopted: boolean;
  configuration_set_name: string | null;
  /** Null for an email address. */
  dkim: DkimSummary | null;
  dns: DnsPreference;
  /** Null when the run created (or adopted) the identity. */
  change: DkimChange | null;
  /** Set when the run adopted the identity and had to start its verification again. */
  restart?: VerificationRestart | null;
  /** The parts beyond DKIM the request asks for (absent on a DKIM change: none). */
  parts?: RequestedParts | null;
}

/** The DNS record types the parts of readiness use: DKIM CNAME/TXT, MAIL FROM MX/TXT, DMARC TXT. */
export type DnsRecordType = 'CNAME' | 'TXT' | 'MX';

/** The part of readiness a DNS record serves (see shared/readiness). Absent: DKIM. */
export type RecordPart = 'dkim' | 'mail_from' | 'dmarc';

/** One DNS record SES (or a receiver) needs to see. Names are fully qualified, lower case, no trailing dot. */
export interface DkimDnsRecord {
  type: DnsRecordType;
  name: string;
  /** CNAME: the target. TXT: the whole text, strings joined. MX: the mail exchanger. */
  value: string;
  ttl: number;
  /** TXT only: the character-strings of at most 255 characters that make up `value`. */
  strings?: string[];
  /** MX only: the preference. */
  priority?: number;
  /** What the record is for; DKIM when absent (records of runs from before the other parts). */
  part?: RecordPart;
}

/** MAIL FROM as the request asks for it (`MailFrom`). */
export interface MailFromRequest {
  domain: string;
  behavior_on_mx_failure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
}

/** DMARC as the request asks for it (`Dmarc`). */
export interface DmarcRequest {
  policy: 'none' | 'quarantine' | 'reject';
  rua: string | null;
}

/** The parts of "ready to send" beyond DKIM that a request asks for; null: not asked. */
export interface RequestedParts {
  mail_from: MailFromRequest | null;
  dmarc: DmarcRequest | null;
  tenant: { name: string } | null;
}

/** What ConfigureSending did at SES: the MAIL FROM domain set, the tenant and its resources. */
export interface SendingSetup {
  mail_from: (MailFromRequest & { region: string }) | null;
  tenant: {
    name: string;
    id: string | null;
    arn: string | null;
    /** True when this run created the tenant. */
    created: boolean;
    /** ARNs of the resources associated with the tenant (the identity, its configuration set). */
    resources: string[];
  } | null;
}

/** What PublishDnsRecords found or did about DMARC. */
export interface DmarcOutcome {
  /** PUBLISHED: the provider wrote ours; REQUIRED: manual DNS, to add; EXISTING: one was there, kept. */
  action: 'PUBLISHED' | 'REQUIRED' | 'EXISTING';
  name: string;
  /** The record that counts: ours, or the one found. */
  value: string;
}

/** Output of PublishDnsRecords. */
export interface PublishedRecords {
  provider: 'route53' | 'manual';
  /** Why this provider: the request named it, or a zone matched, or none did. */
  provider_reason: string;
  hosted_zone_id: string | null;
  hosted_zone_name: string | null;
  /** True when the provider wrote the records (false for manual). */
  written: boolean;
  change_id: string | null;
  records: DkimDnsRecord[];
  /** The same records as BIND zone-file lines, for people who add them by hand. */
  zone_file: string[];
  /** DMARC, when the request asks for it: published, to add, or an existing record kept. */
  dmarc?: DmarcOutcome | null;
}

export type ProbeStatus =
  | 'OK'
  | 'MISSING'
  | 'WRONG_VALUE'
  | 'DUPLICATED_DOMAIN'
  | 'PARTIAL'
  | 'ERROR';

/** What our own DNS look-up found for one expected record. */
export interface ProbeResult {
  name: string;
  type: DnsRecordType;
  status: ProbeStatus;
  expected: string;
  /** What was found, when something was (WRONG_VALUE, PARTIAL, DUPLICATED_DOMAIN). */
  found: string | null;
  /** The DNS error (ERROR), or a short explanation. */
  detail: string | null;
}

export type CheckOutcome = 'VERIFIED' | 'FAILED' | 'TIMED_OUT' | 'PENDING';
