import { readKeySecret, storeGeneratedKeySecret } from '#shared/dkim/key-secret.js';
import { generateDkimKeyPair, keyLengthForBits } from '#shared/dkim/keys.js';
import type { SigningSnapshot } from '#shared/dkim/signing.js';
import { dkimRecordsFor } from '#shared/dns/records.js';
import type { RegistryItem } from '#shared/registry/items.js';
import type { DkimChangeRequest } from '#shared/request/index.js';
import type { CreatedIdentity, DkimKeyLength, PublishedRecords } from '#shared/workflow/types.js';
import {
  type KeySource,
  planDkimChange,
  staleRecordsOf,
  staleRemovalOf,
} from '#steps/change-dkim-signing/dkim-change-plan.js';

/** What PrepareDkimChange hands the workflow: never a private key, only where it is kept. */
export interface PreparedDkimChange {
  /**
   * The identity as it will sign once switched, with `change.switched_at` null: for BYODKIM the
   * new selector and public key, so its TXT record can be published before SES is switched.
   */
  identity: CreatedIdentity;
  /** The secret that holds the new BYODKIM key (supplied or generated); null for Easy DKIM. */
  key_secret_arn: string | null;
  /**
   * True when the new records are known before the switch (BYODKIM: the TXT record derives
   * from the public key), so they are published and seen in DNS first. False for Easy DKIM,
   * whose tokens SES makes only when it is switched.
   */
  publish_first: boolean;
}

export interface PrepareSettings {
  keySecretPrefix: string;
  /** The registry's item of the identity: where the stack published the old records. */
  registryItem: (identity: string) => Promise<Pick<RegistryItem, 'published_json'> | undefined>;
}

/**
 * Plans a DKIM change before anything in SES moves (make before break): refuses what SES
 * would refuse, picks the selector, takes the new BYODKIM key in hand (a supplied one from its
 * secret; a generated one is kept in a secret of the run's own until the switch) and works out
 * the new records and the old records the change will make stale, with which of those the stack
 * published. SES is switched later, by ChangeDkimSigning, once our probe sees the new records.
 */
export async function prepareDkimChange(
  request: DkimChangeRequest,
  current: SigningSnapshot,
  executionId: string,
  now: Date,
  settings: PrepareSettings,
): Promise<PreparedDkimChange> {
  const plan = planDkimChange(request, current, now);
  const key = await keyOf(plan.key, plan.identity, executionId, settings.keySecretPrefix);
  const keyLength = plan.to.signing_key_length ?? key?.keyLength ?? null;
  const identity: CreatedIdentity = {
    identity: plan.identity,
    identity_type: 'DOMAIN',
    created_at: now.toISOString(),
    adopted: false,
    configuration_set_name: current.configuration_set_name,
    dkim: {
      origin: plan.to.origin,
      tokens: [],
      selector: plan.to.selector,
      status: 'PENDING',
      current_signing_key_length: plan.from.signing_key_length,
      next_signing_key_length: plan.to.next_signing_key_length ?? key?.keyLength ?? null,
      public_key: key?.publicKey ?? null,
    },
    dns: {
      provider: request.Dns?.Provider ?? null,
      hosted_zone_id: request.Dns?.HostedZoneId ?? null,
    },
    change: null,
  };
  const publishFirst = plan.to.origin === 'EXTERNAL';
  // Easy DKIM's new names come with SES's tokens: ChangeDkimSigning works them out again then.
  const stale = staleRecordsOf(
    plan,
    publishFirst ? dkimRecordsFor(identity).map((record) => record.name) : [],
  );
  const item = await settings.registryItem(plan.identity);
  const published =
    item?.published_json === undefined
      ? null
      : (JSON.parse(item.published_json) as PublishedRecords | null);
  return {
    identity: {
      ...identity,
      change: {
        kind: plan.kind,
        from: plan.from,
        to: {
          origin: plan.to.origin,
          selector: plan.to.selector,
          tokens: [],
          signing_key_length: keyLength,
        },
        stale_records: stale,
        stale_removal: staleRemovalOf(stale, published),
        switched_at: null,
      },
    },
    key_secret_arn: key?.secretArn ?? null,
    publish_first: publishFirst,
  };
}

/** The new BYODKIM key's public half and where its private half is kept; null for Easy DKIM. */
async function keyOf(
  source: KeySource,
  identity: string,
  executionId: string,
  keySecretPrefix: string,
): Promise<{ secretArn: string; publicKey: string; keyLength: DkimKeyLength | null } | null> {
  if (source.source === 'SECRET') {
    const supplied = await readKeySecret(source.secretArn, source.field);
    return {
      secretArn: source.secretArn,
      publicKey: supplied.publicKey,
      keyLength: keyLengthForBits(supplied.bits),
    };
  }
  if (source.source === 'GENERATED') {
    const pair = await generateDkimKeyPair(source.keyLength);
    const stored = await storeGeneratedKeySecret(
      identity,
      executionId,
      pair.privateKey,
      keySecretPrefix,
    );
    return {
      secretArn: stored.secretArn,
      publicKey: stored.publicKey,
      keyLength: source.keyLength,
    };
  }
  return null;
}
