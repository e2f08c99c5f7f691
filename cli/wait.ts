/**
 * `--wait`: follows a run the CLI started until it ends, asking GET /identities/{identity} every
 * interval, as a person refreshing the status would. A 429 waits as long as its Retry-After says.
 */
import { type ApiClient, identityPath } from './api-client.js';
import { ApiError } from './errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { IdentityView } from './format.js';
import type { CliIo, Output } from './io.js';

/** The default interval: the sandbox's runs move in seconds, a deployed stack's in minutes. */
export function defaultIntervalMs(api: ApiClient): number {
  return api.target.kind === 'sandbox' ? 1000 : 5000;
}

/** Resolves with the identity's view once run `runId` has ended. */
export async function waitForRun(
  api: ApiClient,
  identity: string,
  runId: string | undefined,
  options: { intervalMs: number; io: CliIo; out: Output },
): Promise<IdentityView> {
  const { io, out } = options;
  if (!runId)
    throw new ApiError(
      202,
      'NO_RUN_ID',
      'The API accepted the request but named no run to wait for',
    );
  out.error(`Waiting for run ${runId} to end (Ctrl-C stops waiting; the run goes on)…`);
  let shown = '';
  for (;;) {
    let pauseMs = options.intervalMs;
    try {
      const { data } = await api.send<IdentityView>({
        method: 'GET',
        path: identityPath(identity),
      });
      // A line on stderr each time what the API says changes, so a long wait is not silent.
      const now = `${data.status ?? '?'}, DKIM ${data.dkim_status ?? '-'}`;
      if (now !== shown) {
        out.error(`  ${now}`);
        shown = now;
      }
      const run = data.latest_run;
      if (run?.id === runId && run.status !== undefined && run.status !== 'PENDING') return data;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 429)) throw error;
      pauseMs = Math.max(pauseMs, (error.retryAfterSeconds ?? 1) * 1000);
    }
    await io.sleep(pauseMs, io.signal);
  }
}

/** A run's end as an exit code, as `npm start` gives it: 0 verified, 1 anything else. */
export function exitOfRun(view: IdentityView): ExitCode {
  return view.latest_run?.status === 'VERIFIED' ? EXIT.OK : EXIT.FAILED;
}

/**
 * Resolves once GET /identities/{identity} answers the API's own 404 NOT_FOUND: neither the
 * registry nor SES knows the identity any more, so an offboarding is done. API Gateway's 404 for
 * a missing route (no envelope) is not that, and is thrown.
 */
export async function waitForDeletion(
  api: ApiClient,
  identity: string,
  options: { intervalMs: number; io: CliIo; out: Output },
): Promise<void> {
  const { io, out } = options;
  out.error(`Waiting until ${identity} is gone (Ctrl-C stops waiting; the deletion goes on)…`);
  for (;;) {
    let pauseMs = options.intervalMs;
    try {
      await api.send<IdentityView>({ method: 'GET', path: identityPath(identity) });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND') return;
      if (!(error instanceof ApiError && error.status === 429)) throw error;
      pauseMs = Math.max(pauseMs, (error.retryAfterSeconds ?? 1) * 1000);
    }
    await io.sleep(pauseMs, io.signal);
  }
}
