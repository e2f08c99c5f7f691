/** `change-dkim <identity> ...`: PUT /identities/{identity}/dkim. */
import { identityPath } from '#cli/api-client.js';
import { EXIT } from '#cli/exit-codes.js';
import { formatStarted, formatStatus, type StartedView } from '#cli/format.js';
import { dkimChangeBody } from '#cli/request-body.js';
import { defaultIntervalMs, exitOfRun, waitForRun } from '#cli/wait.js';
import {
  booleanFlag,
  type Command,
  oneIdentity,
  SIGNING_OPTIONS,
  secondsFlag,
  stringFlag,
  WAIT_HELP,
  WAIT_OPTIONS,
} from './command.js';
import { idempotencyHeaders } from './start.js';

export const changeDkim: Command = {
  name: 'change-dkim',
  synopsis: 'change-dkim <identity>',
  summary: 'switch, rotate or resize DKIM signing without breaking it',
  help: `Any change SES's PutEmailIdentityDkimSigningAttributes allows, without breaking signing: the
new records are published and verified before the old ones are removed.

  identity                   the domain
  --origin AWS_SES|EXTERNAL  Easy DKIM or BYODKIM (EXTERNAL is implied by the BYODKIM flags)
  --key-length 1024|2048     Easy DKIM: the next key's length (SES allows one change a day);
                             with --generate-key: the generated key's
  --selector NAME            BYODKIM: the new selector (default: a new one, ses-YYYYMMDD, so the
                             old key signs until the new one verifies)
  --generate-key             BYODKIM with a key pair generated for the run
  --key-secret-arn ARN       BYODKIM with your key from this Secrets Manager secret (preferred)
  --key-file FILE            BYODKIM with your key from FILE (PEM, or base64 DER): sent in the
                             body, which the API moves into Secrets Manager; never printed
  --dns route53|manual       where the new records go
  --hosted-zone-id ID        the Route 53 hosted zone to write them to
  --body-file FILE           a JSON request body to start from ("-" reads standard input)
${WAIT_HELP}

Examples:
  change-dkim mail.example.com --generate-key                  rotate to a new BYODKIM key
  change-dkim mail.example.com --origin AWS_SES                back to Easy DKIM
  change-dkim mail.example.com --origin AWS_SES --key-length 1024`,
  options: { ...SIGNING_OPTIONS, ...WAIT_OPTIONS, origin: { type: 'string' } },
  async run(context) {
    const { values, io, out, redactor } = context;
    const identity = oneIdentity(context, 'change-dkim');
    const body = await dkimChangeBody(
      {
        origin: stringFlag(values, 'origin'),
        selector: stringFlag(values, 'selector'),
        'generate-key': booleanFlag(values, 'generate-key'),
        'key-length': stringFlag(values, 'key-length'),
        'key-file': stringFlag(values, 'key-file'),
        'key-secret-arn': stringFlag(values, 'key-secret-arn'),
        dns: stringFlag(values, 'dns'),
        'hosted-zone-id': stringFlag(values, 'hosted-zone-id'),
        'body-file': stringFlag(values, 'body-file'),
      },
      io,
      redactor,
    );
    const api = await context.api();
    const intervalMs = secondsFlag(values, 'interval', defaultIntervalMs(api));
    const { data } = await api.send<StartedView>({
      method: 'PUT',
      path: identityPath(identity, '/dkim'),
      body: JSON.stringify(body),
      headers: idempotencyHeaders(values),
    });
    if (!booleanFlag(values, 'wait')) {
      if (context.json) out.json(data);
      else for (const line of formatStarted(data)) out.line(line);
      return EXIT.OK;
    }
    if (!context.json) for (const line of formatStarted(data)) out.line(line);
    const ended = await waitForRun(api, data.identity ?? identity, data.id, {
      intervalMs,
      io,
      out,
    });
    if (context.json) out.json(ended);
    else for (const line of formatStatus(ended)) out.line(line);
    return exitOfRun(ended);
  },
};
