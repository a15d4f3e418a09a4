/** Exit statuses of the `brocapi` command, one per kind of outcome a script may branch on. */
export const ExitCode = {
  OK: 0,
  /** The job ended `failed` or `partial`. */
  JOB_FAILED: 1,
  USAGE: 2,
  /** The server could not be reached, or answered with an HTTP error. */
  SERVER: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the command reports in one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** The command line itself is wrong (unknown option, missing argument, bad value, unreadable file). */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/** The server was unreachable or refused the request; `message` carries the server's `status` text. */
export class ApiError extends CliError {
  override readonly name = "ApiError";
  constructor(
    message: string,
    /** The HTTP status, absent when no answer came back at all. */
    readonly httpStatus?: number,
    /** The API's stable error code (`BROCAPI_…`), when its answer had one. */
    readonly code?: string,
  ) {
    super(message, ExitCode.SERVER);
  }
}
