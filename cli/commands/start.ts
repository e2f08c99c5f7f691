/** `start <identity> [request options]`: POST /identities. */
import { UsageError } from '#cli/errors.js';
import { EXIT } from '#cli/exit-codes.js';
import { formatStarted, formatStatus, type StartedView } from '#cli/format.js';
import { type StartFlags, startBody } from '#cli/request-body.js';
import { defaultIntervalMs, exitOfRun, waitForRun } from '#cli/wait.js';
import {
  booleanFlag,
  type Command,
  SIGNING_OPTIONS,
  secondsFlag,
  stringFlag,
  stringsFlag,
  type Values,
  WAIT_HELP,
  WAIT_OPTIONS,
} from './command.js';

export function startFlags(values: Values): StartFlags {
  return {
    selector: stringFlag(values, 'selector'),
    'generate-key': booleanFlag(values, 'generate-key'),
    'key-length': stringFlag(values, 'key-length'),
    'key-file': stringFlag(values, 'key-file'),
    'key-secret-arn': stringFlag(values, 'key-secret-arn'),
    dns: stringFlag(values, 'dns'),
    'hosted-zone-id': stringFlag(values, 'hosted-zone-id'),
    'body-file': stringFlag(values, 'body-file'),
    tag: stringsFlag(values, 'tag'),
    'configuration-set': stringFlag(values, 'configuration-set'),
  };
}

/** Idempotency-Key, when one is given. */
export function idempotencyHeaders(values: Values): Record<string, string> {
  const key = stringFlag(values, 'idempotency-key');
  return key === undefined ? {} : { 'idempotency-key': key };
}

export const start: Command = {
  name: 'start',
  synopsis: 'start <identity>',
  summary: 'start verifying a domain or an address',
  help: `The request is SES's CreateEmailIdentity, field for field; the flags set its fields, on top
of --body-file for anything else. The API checks every SES rule and answers 202 with the run.

  identity                   a domain (mail.example.com) or an address (ops@example.com)
  --tag KEY=VALUE            a tag on the identity (repeatable)
  --configuration-set NAME   the identity's default configuration set
  --key-length 1024|2048     Easy DKIM's key length (NextSigningKeyLength), or the generated
                             key's with --generate-key
  --selector NAME            BYODKIM: the selector
  --generate-key             BYODKIM with a key pair generated for the run (its private half
                             goes to SES only)
  --key-secret-arn ARN       BYODKIM with your key, read from this Secrets Manager secret (its
                             SecretString the base64 key): the way the API prefers
  --key-file FILE            BYODKIM with your key from FILE (PEM, or base64 DER): sent in the
                             body, which the API moves into Secrets Manager; never printed
  --dns route53|manual       where the DKIM records go (default: Route 53 when a zone matches)
  --hosted-zone-id ID        the Route 53 hosted zone to write them to
  --body-file FILE           a JSON request body to start from ("-" reads standard input)
${WAIT_HELP}`,
  options: {
    ...SIGNING_OPTIONS,
    ...WAIT_OPTIONS,
    tag: { type: 'string', multiple: true },
    'configuration-set': { type: 'string' },
  },
  async run(context) {
    const { values, io, out, redactor } = context;
    const [identity, ...rest] = context.positionals;
    if (rest.length > 0) {
      throw new UsageError(`One identity at a time, got ${context.positionals.join(' ')}`);
    }
    const body = await startBody(identity, startFlags(values), io, redactor);
    const api = await context.api();
    const intervalMs = secondsFlag(values, 'interval', defaultIntervalMs(api));
    const { data } = await api.send<StartedView>({
      method: 'POST',
      path: '/identities',
      body: JSON.stringify(body),
      headers: idempotencyHeaders(values),
    });
    if (!booleanFlag(values, 'wait')) {
      if (context.json) out.json(data);
      else for (const line of formatStarted(data)) out.line(line);
      return EXIT.OK;
    }
    if (!context.json) for (const line of formatStarted(data)) out.line(line);
    const ended = await waitForRun(api, data.identity ?? String(body.EmailIdentity), data.id, {
      intervalMs,
      io,
      out,
    });
    if (context.json) out.json(ended);
    else for (const line of formatStatus(ended)) out.line(line);
    return exitOfRun(ended);
  },
};
