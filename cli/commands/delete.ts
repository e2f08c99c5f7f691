/** `delete <identity>`: DELETE /identities/{identity}. */
import { identityPath } from '#cli/api-client.js';
import { UsageError } from '#cli/errors.js';
import { EXIT } from '#cli/exit-codes.js';
import { formatDeleted } from '#cli/format.js';
import { defaultIntervalMs, waitForDeletion } from '#cli/wait.js';
import { booleanFlag, type Command, oneIdentity, secondsFlag } from './command.js';

export const deleteIdentity: Command = {
  name: 'delete',
  synopsis: 'delete <identity>',
  summary: 'offboard an identity: stop its run, remove its records, delete it',
  help: `Offboards an identity: the stack stops its running run, removes the DKIM records it published,
deletes the SES identity and its registry item, and emits "Email Identity Deleted". The API
answers 202 at once; the work follows.

  identity                   a domain or an address the stack manages
  --yes                      do not ask first (needed when standard input is not a terminal)
  --wait                     wait until the API no longer knows the identity (GET answers 404)
  --interval SECONDS         how often --wait asks (default 1 for the sandbox, 5 for a stack)`,
  options: { yes: { type: 'boolean' }, wait: { type: 'boolean' }, interval: { type: 'string' } },
  async run(context) {
    const identity = oneIdentity(context, 'delete');
    if (!booleanFlag(context.values, 'yes')) {
      if (context.io.ask === undefined) {
        throw new UsageError(
          `delete ${identity} asks before it deletes: pass --yes when not at a terminal`,
        );
      }
      const answer = await context.io.ask(
        `Delete ${identity}: its SES identity, the DKIM records the stack published and its registry item? Type the identity to confirm: `,
      );
      if (answer.trim() !== identity) {
        context.out.error('Not confirmed: nothing deleted.');
        return EXIT.INVALID;
      }
    }
    const api = await context.api();
    const intervalMs = secondsFlag(context.values, 'interval', defaultIntervalMs(api));
    const { data } = await api.send<unknown>({ method: 'DELETE', path: identityPath(identity) });
    if (context.json) context.out.json(data);
    else for (const line of formatDeleted(identity, data)) context.out.line(line);
    if (booleanFlag(context.values, 'wait')) {
      await waitForDeletion(api, identity, { intervalMs, io: context.io, out: context.out });
      if (!context.json) context.out.line(`${identity} is deleted.`);
    }
    return EXIT.OK;
  },
};
