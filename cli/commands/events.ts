/**
 * `events [--follow]`: the events the sandbox delivered, from its GET /sandbox/events page.
 * --follow asks again every interval for the events delivered after the last one it printed
 * (`after=<event id>`), so each poll carries only what is new.
 */
import { UsageError } from '#cli/errors.js';
import { EXIT } from '#cli/exit-codes.js';
import { type DeliveredEventView, formatEvent } from '#cli/format.js';
import { booleanFlag, type Command, noPositionals, secondsFlag, stringFlag } from './command.js';

export const events: Command = {
  name: 'events',
  synopsis: 'events',
  summary: 'the events the sandbox delivered (--follow keeps watching)',
  help: `The events the sandbox's EventBridge delivered, oldest first, one line each (with --json, each
event as EventBridge delivers it, one JSON object a line). Sandbox only: a deployed stack's
events go to its bus (the stack's EventBusName and EventSource outputs); subscribe with a rule.

  --follow                   keep watching and print each new event as it comes (Ctrl-C stops)
  --identity IDENTITY        only this identity's events
  --detail-type TYPE         only events of this detail-type ("Email Identity Verified", ...)
  --interval SECONDS         how often --follow asks (default 1)`,
  options: {
    follow: { type: 'boolean' },
    identity: { type: 'string' },
    'detail-type': { type: 'string' },
    interval: { type: 'string' },
  },
  async run(context) {
    noPositionals(context, 'events');
    const { values, io, out } = context;
    const intervalMs = secondsFlag(values, 'interval', 1000);
    const api = await context.api();
    if (api.target.kind !== 'sandbox' && api.target.signer !== undefined) {
      throw new UsageError(
        'events reads the sandbox (GET /sandbox/events); a deployed stack sends its events to its EventBridge bus: subscribe to them with a rule',
      );
    }
    const query = {
      identity: stringFlag(values, 'identity'),
      'detail-type': stringFlag(values, 'detail-type'),
    };
    const printed = new Set<string>();
    let last: string | undefined;
    const follow = booleanFlag(values, 'follow');
    try {
      for (;;) {
        const { data } = await api.sendPlain<{ events?: DeliveredEventView[] }>({
          method: 'GET',
          path: '/sandbox/events',
          query: { ...query, after: last },
        });
        for (const event of data.events ?? []) {
          const id = event.id ?? JSON.stringify(event);
          if (event.id) last = event.id;
          // A sandbox that restarted does not know the cursor and answers with every event.
          if (printed.has(id)) continue;
          printed.add(id);
          if (context.json) out.jsonLine(event);
          else for (const line of formatEvent(event)) out.line(line);
        }
        if (!follow) return EXIT.OK;
        await io.sleep(intervalMs, io.signal);
      }
    } catch (error) {
      // Ctrl-C is how --follow ends.
      if (follow && io.signal.aborted) return EXIT.OK;
      throw error;
    }
  },
};
