/** `status <identity>`: GET /identities/{identity}. */
import { identityPath } from '#cli/api-client.js';
import { EXIT, type ExitCode } from '#cli/exit-codes.js';
import { formatStatus, type IdentityView } from '#cli/format.js';
import { type Command, oneIdentity } from './command.js';

/** VERIFIED 0; PENDING 5 (still going); FAILED, TIMED_OUT, DEGRADED 1. */
export function exitOfStatus(status: string | undefined): ExitCode {
  if (status === 'VERIFIED') return EXIT.OK;
  if (status === 'PENDING') return EXIT.PENDING;
  return EXIT.FAILED;
}

export const status: Command = {
  name: 'status',
  synopsis: 'status <identity>',
  summary: 'where an identity stands, each DKIM record ✓ or ✗',
  help: `The registry's record of the identity: its status, its latest run (with the reason it failed
and its Step Functions console page), and each DKIM record SES needs, ✓ or ✗ with what DNS held
and what SES expects at the last look (a run's, or a check's).

  identity                   a domain or an address

Exit code: 0 VERIFIED, 5 PENDING (the run is still going), 1 FAILED, TIMED_OUT or DEGRADED.`,
  options: {},
  async run(context) {
    const identity = oneIdentity(context, 'status');
    const api = await context.api();
    const { data } = await api.send<IdentityView>({ method: 'GET', path: identityPath(identity) });
    if (context.json) context.out.json(data);
    else for (const line of formatStatus(data)) context.out.line(line);
    return exitOfStatus(data.status);
  },
};
