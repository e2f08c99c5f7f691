import { EXIT, type ExitCode } from './exit-codes.js';

/** Something the person typed cannot work: exit 2, with the line that says why. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The API (or CloudFormation, for --stack) could not be reached at all: exit 3. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** One problem of a 400, as the API lists it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * The API answered with an error: its envelope's code, message and field problems, or API
 * Gateway's own `{"message"}` (403 for a missing or wrong signature, 404 for an unknown route).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
    /** Seconds the API asked us to wait (a 429's Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** Invalid input (exit 2) for what the request itself got wrong; refused (exit 4) otherwise. */
  get exitCode(): ExitCode {
    return this.status === 400 || this.status === 413 || this.status === 415
      ? EXIT.INVALID
      : EXIT.REFUSED;
  }
}
