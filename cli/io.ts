/**
 * What the CLI needs from its process, passed in so that tests run it in-process: output
 * streams, the environment, Ctrl-C as an abort signal, a clock to wait on, standard input.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: a wait or a follow stops there. */
  signal: AbortSignal;
  /** Resolves after `ms`, or rejects with the signal's reason once it is aborted. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Standard input, whole (for `--body-file -`). */
  readStdin(): Promise<string>;
  /** Asks a question on the terminal; undefined when standard input is not a terminal. */
  ask?: (question: string) => Promise<string>;
}

/** Lines to stdout and stderr, with every private key the CLI was given withheld. */
export interface Output {
  line(text?: string): void;
  error(text: string): void;
  /** A JSON document, indented. */
  json(value: unknown): void;
  /** A JSON document on one line (a stream of them: one a line). */
  jsonLine(value: unknown): void;
}
