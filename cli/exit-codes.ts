/**
 * The CLI's exit codes. 0, 1 and 2 mean what they mean for `npm start` (verified, failed or timed
 * out, invalid input); the others tell a script why nothing could be said about the identity.
 */
export const EXIT = {
  /** Done: the request was accepted, or the identity is verified, or every record is right. */
  OK: 0,
  /** The identity failed, timed out or degraded; or `check` found a record that is not right. */
  FAILED: 1,
  /** Invalid input: a usage error, a 400 (every field problem listed), a 413 or a 415. */
  INVALID: 2,
  /** The API could not be reached: connection refused, unknown host, no answer in time. */
  UNREACHABLE: 3,
  /** The API answered no: 403, 404, 409, 429 (with its Retry-After), 5xx. */
  REFUSED: 4,
  /** `status`: the identity's run is still going (PENDING). */
  PENDING: 5,
  /** A fault of the CLI itself (a bug): the message and stack on stderr. */
  INTERNAL: 70,
  /** Stopped by Ctrl-C while waiting for a run; the run goes on. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
