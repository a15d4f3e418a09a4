/**
 * Every failure Brocapi reports has a stable `code`. The code, not the message, decides what
 * happens next: the HTTP status at the API, and ack / nak / term at a consumer.
 */
export const ErrorCodes = {
  CONFIG_INVALID: "BROCAPI_CONFIG_INVALID",
  CONFIG_FILE_UNREADABLE: "BROCAPI_CONFIG_FILE_UNREADABLE",
  UPLOAD_NOT_MULTIPART: "BROCAPI_UPLOAD_NOT_MULTIPART",
  UPLOAD_NO_FILES: "BROCAPI_UPLOAD_NO_FILES",
  UPLOAD_NOT_A_CAPTURE: "BROCAPI_UPLOAD_NOT_A_CAPTURE",
  UPLOAD_TOO_LARGE: "BROCAPI_UPLOAD_TOO_LARGE",
  UPLOAD_TOO_MANY_FILES: "BROCAPI_UPLOAD_TOO_MANY_FILES",
  UPLOAD_MALFORMED: "BROCAPI_UPLOAD_MALFORMED",
  /** A gzip or zstd upload whose compressed data is damaged or cut short. */
  UPLOAD_BAD_COMPRESSION: "BROCAPI_UPLOAD_BAD_COMPRESSION",
  /** `profile=` names no profile of `zeek.profiles`. */
  UPLOAD_UNKNOWN_PROFILE: "BROCAPI_UPLOAD_UNKNOWN_PROFILE",
  /** A form field other than the files holds a value it cannot take (e.g. `merge=maybe`). */
  UPLOAD_BAD_FIELD: "BROCAPI_UPLOAD_BAD_FIELD",
  /** Merge mode: the captures are of different link types, so they cannot be one recording. */
  UPLOAD_MIXED_LINK_TYPES: "BROCAPI_UPLOAD_MIXED_LINK_TYPES",
  BROKER_UNAVAILABLE: "BROCAPI_BROKER_UNAVAILABLE",
  /** The capture store refused an upload for one of its limits (`nats.pcapRetentionBytes` reached). */
  STORE_FULL: "BROCAPI_STORE_FULL",
  JOB_NOT_FOUND: "BROCAPI_JOB_NOT_FOUND",
  LOG_NOT_FOUND: "BROCAPI_LOG_NOT_FOUND",
  PCAP_NOT_FOUND: "BROCAPI_PCAP_NOT_FOUND",
  BAD_REQUEST: "BROCAPI_BAD_REQUEST",
  UPLOAD_TIMEOUT: "BROCAPI_UPLOAD_TIMEOUT",
  ZEEK_REJECTED_INPUT: "BROCAPI_ZEEK_REJECTED_INPUT",
  ZEEK_TIME_LIMIT: "BROCAPI_ZEEK_TIME_LIMIT",
  ZEEK_NOT_FOUND: "BROCAPI_ZEEK_NOT_FOUND",
  ZEEK_CRASHED: "BROCAPI_ZEEK_CRASHED",
  PCAP_MISSING: "BROCAPI_PCAP_MISSING",
  /** A task names a profile this worker's `zeek.profiles` does not hold (api and worker configured differently). */
  PROFILE_UNKNOWN: "BROCAPI_PROFILE_UNKNOWN",
  /** Merge mode: a capture of the recording cannot be merged (damaged, cut mid-packet without salvage, another link type). */
  MERGE_UNREADABLE: "BROCAPI_MERGE_UNREADABLE",
  /** A warning, not a failure: the capture was cut mid-packet and analysed up to the cut. */
  CAPTURE_TRUNCATED: "BROCAPI_CAPTURE_TRUNCATED",
  TASK_ABANDONED: "BROCAPI_TASK_ABANDONED",
  TASK_LOST: "BROCAPI_TASK_LOST",
  /** A sharded capture one of whose shards failed: the others' lines are delivered, the capture is failed. */
  SHARD_FAILED: "BROCAPI_SHARD_FAILED",
  /** A `shards` form field that is neither `auto` nor a whole number in range. */
  UPLOAD_BAD_SHARDS: "BROCAPI_UPLOAD_BAD_SHARDS",
  SINK_UNAVAILABLE: "BROCAPI_SINK_UNAVAILABLE",
  SINK_NOT_FOUND: "BROCAPI_SINK_NOT_FOUND",
  /** A sink instance's count for a finished job stayed short after its consumer passed every line (the audit's finding). */
  SINK_SHORTFALL: "BROCAPI_SINK_SHORTFALL",
  LOGS_EXPIRED: "BROCAPI_LOGS_EXPIRED",
  NATS_SERVER_START: "BROCAPI_NATS_SERVER_START",
  NATS_AUTH_FAILED: "BROCAPI_NATS_AUTH_FAILED",
  NATS_TLS_FAILED: "BROCAPI_NATS_TLS_FAILED",
  AUTH_MISSING: "BROCAPI_AUTH_MISSING",
  AUTH_INVALID: "BROCAPI_AUTH_INVALID",
  AUTH_FORBIDDEN: "BROCAPI_AUTH_FORBIDDEN",
  AUTH_OUT_OF_SCOPE: "BROCAPI_AUTH_OUT_OF_SCOPE",
  HEADERS_TOO_LARGE: "BROCAPI_HEADERS_TOO_LARGE",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base of all Brocapi errors; `permanent` says whether retrying the same work can help. */
export class BrocapiError extends Error {
  override readonly name: string = "BrocapiError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { permanent?: boolean; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
  get permanent(): boolean {
    return this.options.permanent ?? false;
  }
  get httpStatus(): number {
    return this.options.httpStatus ?? 500;
  }
}

/** A configuration value that cannot be used; the message names the setting and what is allowed. */
export class ConfigError extends BrocapiError {
  override readonly name = "ConfigError";
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.CONFIG_INVALID, message, { permanent: true, cause });
  }
}

/** Something wrong with what a client sent: the API answers with `httpStatus` and the seed's JSON shape. */
export class UploadError extends BrocapiError {
  override readonly name = "UploadError";
  constructor(code: ErrorCode, message: string, httpStatus: number) {
    super(code, message, { permanent: true, httpStatus });
  }
}

/** Zeek could not analyse a capture. Permanent when Zeek itself refused the input or ran out of time. */
export class ZeekError extends BrocapiError {
  override readonly name = "ZeekError";
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: { exitCode?: number; signal?: string; stderr: string; permanent: boolean },
  ) {
    super(code, message, { permanent: details.permanent });
  }
}

/**
 * A request without a usable API token (401, with the `WWW-Authenticate` challenge RFC 6750
 * asks for) or whose token may not do this (403).
 */
export class AuthError extends BrocapiError {
  override readonly name = "AuthError";
  constructor(
    code: ErrorCode,
    message: string,
    httpStatus: 401 | 403,
    /** The `WWW-Authenticate` value. */
    readonly challenge: string,
  ) {
    super(code, message, { permanent: true, httpStatus });
  }
}
