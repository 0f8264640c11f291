/** Exit codes of every command (documented in the README, "The command line"). */
export const EXIT = {
  /** The command did its job; for run/watch: the process succeeded. */
  ok: 0,
  /** The process failed, was cancelled or timed out, or the command could not do its job. */
  failed: 1,
  /** Bad usage: unknown command or option, missing or invalid argument, invalid process file. */
  usage: 2,
  /** Ctrl-C stopped watching; the process itself goes on. */
  interrupted: 130,
} as const;

/** An error the CLI reports as one message (no stack trace) and exits with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
