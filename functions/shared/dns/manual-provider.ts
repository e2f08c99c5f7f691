import type { DkimDnsRecord } from '#shared/workflow/types.js';
import type { DnsProvider, PublishOutcome } from './provider.js';

/**
 * Writes nothing: the step returns the records (as JSON and zone-file lines) and the workflow
 * emits "DNS Records Required", so that a person or another system adds them.
 */
export class ManualDnsProvider implements DnsProvider {
  readonly name = 'manual';

  async publish(records: DkimDnsRecord[]): Promise<PublishOutcome> {
    return {
      written: false,
      changeId: null,
      detail:
        records.length === 0
          ? 'no records to add'
          : `nothing written: ${records.length} record(s) must be added to DNS by hand`,
    };
  }
}
