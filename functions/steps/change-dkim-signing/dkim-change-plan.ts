import type { PutEmailIdentityDkimSigningAttributesCommandInput } from '@aws-sdk/client-sesv2';
import {
  isKeyLengthChange,
  keyLengthChangeRefusal,
  type SigningSnapshot,
} from '#shared/dkim/signing.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import { ConflictError, ValidationError } from '#shared/workflow/errors.js';
import type {
  DkimChangeKind,
  DkimKeyLength,
  DkimOrigin,
  DkimSigning,
  PublishedRecords,
  StaleRecord,
  StaleRecordRemoval,
} from '#shared/workflow/types.js';

/** The request field that names a supplied key's secret, for validation errors. */
export const KEY_SECRET_FIELD = 'SigningAttributes.DomainSigningPrivateKeySecretArn';

/** Where the new BYODKIM key comes from; none for Easy DKIM. */
export type KeySource =
  | { source: 'NONE' }
  | { source: 'SECRET'; secretArn: string; field: string }
  | { source: 'GENERATED'; keyLength: DkimKeyLength };

/**
 * A DKIM signing change, decided once from the request and the signing ReadDkimSigning saw,
 * before anything is called: what kind of change it is, from what to what, the
 * PutEmailIdentityDkimSigningAttributes input and where the key comes from. The
 * ChangeDkimSigning step carries it out.
 */
export interface DkimChangePlan {
  identity: string;
  kind: DkimChangeKind;
  from: DkimSigning;
  /**
   * How the domain signs afterwards, as far as it is known before SES answers: Easy DKIM's
   * tokens come with SES's answer, and a BYODKIM key's length with the key.
   */
  to: {
    origin: DkimOrigin;
    selector: string | null;
    /** The key length signing uses once the change is done; a supplied key's is read with it. */
    signing_key_length: DkimKeyLength | null;
    /** The key length SES generates next (Easy DKIM); a BYODKIM key's own length. */
    next_signing_key_length: DkimKeyLength | null;
  };
  /**
   * The PutEmailIdentityDkimSigningAttributes input, without the BYODKIM private key, which the
   * step adds once it holds the key. Null when SES already signs as asked: no call.
   */
  sesInput: PutEmailIdentityDkimSigningAttributesCommandInput | null;
  key: KeySource;
}

/**
 * Plans the change a validated request asks for. Refuses, before any AWS call, what SES would
 * refuse: DKIM signing for an address (ValidationError) and a second Easy DKIM key length change
 * within a day (ConflictError).
 */
export function planDkimChange(
  request: DkimChangeRequest,
  current: SigningSnapshot,
  now: Date,
): DkimChangePlan {
  const identity = request.EmailIdentity;
  if (current.identity_type !== null && current.identity_type !== 'DOMAIN') {
    throw new ValidationError([
      {
        field: 'EmailIdentity',
        message: `is an ${current.identity_type} in SES; DKIM signing applies to domains only`,
      },
    ]);
  }
  const refusal = keyLengthChangeRefusal(request, current, now);
  if (refusal !== undefined) throw new ConflictError(refusal);

  const from = current.signing;
  const kind = changeKind(request, current);
  const attributes = request.SigningAttributes;

  if (request.SigningAttributesOrigin === 'EXTERNAL') {
    const selector = attributes?.DomainSigningSelector ?? newSelector(from.selector, now);
    const secretArn = attributes?.DomainSigningPrivateKeySecretArn;
    const key: KeySource =
      secretArn !== undefined
        ? { source: 'SECRET', secretArn, field: KEY_SECRET_FIELD }
        : {
            source: 'GENERATED',
            keyLength: attributes?.GenerateDomainSigningKey?.KeyLength ?? 'RSA_2048_BIT',
          };
    const keyLength = key.source === 'GENERATED' ? key.keyLength : null;
    return {
      identity,
      kind,
      from,
      to: {
        origin: 'EXTERNAL',
        selector,
        signing_key_length: keyLength,
        next_signing_key_length: keyLength,
      },
      sesInput: {
        EmailIdentity: identity,
        SigningAttributesOrigin: 'EXTERNAL',
        SigningAttributes: { DomainSigningSelector: selector },
      },
      key,
    };
  }

  const keyLength = attributes?.NextSigningKeyLength;
  return {
    identity,
    kind,
    from,
    to: {
      origin: 'AWS_SES',
      selector: null,
      signing_key_length: keyLength ?? from.signing_key_length,
      next_signing_key_length: keyLength ?? current.next_signing_key_length,
    },
    sesInput:
      kind === 'NO_CHANGE'
        ? null
        : {
            EmailIdentity: identity,
            SigningAttributesOrigin: 'AWS_SES',
            SigningAttributes: keyLength ? { NextSigningKeyLength: keyLength } : undefined,
          },
    key: { source: 'NONE' },
  };
}

function changeKind(request: DkimChangeRequest, current: SigningSnapshot): DkimChangeKind {
  const from = current.signing.origin;
  if (request.SigningAttributesOrigin === 'EXTERNAL') {
    if (from === 'EXTERNAL') return 'BYODKIM_KEY_ROTATION';
    return from === 'AWS_SES' ? 'EASY_DKIM_TO_BYODKIM' : 'ENABLE_BYODKIM';
  }
  if (from === 'EXTERNAL') return 'BYODKIM_TO_EASY_DKIM';
  if (from === null) return 'ENABLE_EASY_DKIM';
  return isKeyLengthChange(request, current) ? 'EASY_DKIM_KEY_LENGTH' : 'NO_CHANGE';
}

/** A BYODKIM rotation gets a selector of its own, so the old key keeps verifying until SUCCESS. */
function newSelector(current: string | null, now: Date): string {
  const base = `ses-${now.toISOString().slice(0, 10).replaceAll('-', '')}`;
  if (current !== base && !current?.startsWith(`${base}-`)) return base;
  const n = Number(current.slice(base.length + 1)) || 1;
  return `${base}-${n + 1}`;
}

/**
 * The records of the old signing that the new one no longer uses, by name and type: removed
 * only once the new DKIM is SUCCESS. `newRecordNames` are the names of the new signing's
 * records (Easy DKIM's come from SES's answer).
 */
export function staleRecordsOf(
  plan: Pick<DkimChangePlan, 'identity' | 'from'>,
  newRecordNames: string[],
): StaleRecord[] {
  const { identity, from } = plan;
  const kept = new Set(newRecordNames.map((name) => name.toLowerCase()));
  const old: StaleRecord[] =
    from.origin === 'AWS_SES'
      ? from.tokens.map((token) => ({ type: 'CNAME', name: `${token}._domainkey.${identity}` }))
      : from.origin === 'EXTERNAL' && from.selector
        ? [{ type: 'TXT', name: `${from.selector}._domainkey.${identity}` }]
        : [];
  return old.filter((record) => !kept.has(record.name.toLowerCase()));
}

/**
 * Splits the stale records by who published them, from the registry's record of where the
 * stack published the identity's records before the change: only records the stack wrote itself
 * (Route 53, the same names) are ever removed by it; the rest are listed for a person.
 */
export function staleRemovalOf(
  stale: StaleRecord[],
  published: PublishedRecords | null,
): StaleRecordRemoval {
  const byStack =
    published?.written === true &&
    published.provider === 'route53' &&
    published.hosted_zone_id !== null &&
    published.hosted_zone_name !== null;
  const names = new Set(
    byStack ? published.records.map((r) => `${r.type} ${r.name.toLowerCase()}`) : [],
  );
  const ours = stale.filter((r) => names.has(`${r.type} ${r.name.toLowerCase()}`));
  return {
    provider: ours.length > 0 ? 'route53' : null,
    hosted_zone_id: ours.length > 0 ? (published?.hosted_zone_id ?? null) : null,
    hosted_zone_name: ours.length > 0 ? (published?.hosted_zone_name ?? null) : null,
    records: ours,
    by_hand: stale.filter((r) => !ours.includes(r)),
  };
}
