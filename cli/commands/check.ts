/** `check <identity>`: POST /identities/{identity}/check. */
import { identityPath } from '#cli/api-client.js';
import { EXIT } from '#cli/exit-codes.js';
import { allRecordsRight, type CheckView, formatCheck } from '#cli/format.js';
import { type Command, oneIdentity } from './command.js';

export const check: Command = {
  name: 'check',
  synopsis: 'check <identity>',
  summary: 'look at DNS now, record by record, and wake the waiting run',
  help: `Looks up every DKIM record the identity needs now, and wakes the run waiting on it, which then
asks SES at once instead of at its next look (as the "verify" button of a mail provider does).
Each record is ✓ or ✗, with what DNS holds and what SES expects.

  identity                   a domain or an address the stack manages

Exit code: 0 when every record is right, 1 when one is not (with no records to look up, as
for an address: 0 once the identity is verified).`,
  options: {},
  async run(context) {
    const identity = oneIdentity(context, 'check');
    const api = await context.api();
    const { data } = await api.send<CheckView>({
      method: 'POST',
      path: identityPath(identity, '/check'),
    });
    if (context.json) context.out.json(data);
    else for (const line of formatCheck(data)) context.out.line(line);
    const records = data.records ?? [];
    // No records: an address (verified by its link, not DNS), or a run that has not derived them
    // yet; only the identity's status can say it is fine then.
    if (records.length === 0) return data.status === 'VERIFIED' ? EXIT.OK : EXIT.FAILED;
    return allRecordsRight(records) ? EXIT.OK : EXIT.FAILED;
  },
};
