import { AuthError, BrocapiError, ErrorCodes } from "../../shared/errors.js";
import { isBrokerUnavailable } from "../../shared/nats/broker-errors.js";
import type { Config } from "../../shared/config/schema.js";

export interface Failure {
  httpStatus: number;
  code: string;
  /** What went wrong, in words a person can act on: the seed's `status` key. */
  status: string;
  /** `WWW-Authenticate` of a refusal for want of a token or a role. */
  challenge?: string;
}

const NOT_MULTIPART = { httpStatus: 415, code: ErrorCodes.UPLOAD_NOT_MULTIPART, status: "request is not multipart/form-data: send captures as file[] parts" };

/** Fastify's and the multipart parser's errors, with a stable code of ours in place of theirs. */
const FASTIFY_UPLOAD_ERRORS: Record<string, (limits: Config["http"]) => Failure> = {
  FST_REQ_FILE_TOO_LARGE: (l) => ({ httpStatus: 413, code: ErrorCodes.UPLOAD_TOO_LARGE, status: `a file is larger than the limit of ${l.maxFileBytes} bytes` }),
  FST_FILES_LIMIT: (l) => ({ httpStatus: 413, code: ErrorCodes.UPLOAD_TOO_MANY_FILES, status: `more than ${l.maxFiles} files in one submission` }),
  FST_PARTS_LIMIT: () => ({ httpStatus: 413, code: ErrorCodes.UPLOAD_TOO_MANY_FILES, status: "too many parts in the multipart body" }),
  FST_FIELDS_LIMIT: () => ({ httpStatus: 413, code: ErrorCodes.UPLOAD_MALFORMED, status: "too many form fields" }),
  FST_PROTO_VIOLATION: () => ({ httpStatus: 400, code: ErrorCodes.UPLOAD_MALFORMED, status: "a form field name is not allowed" }),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => NOT_MULTIPART,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => NOT_MULTIPART,
  FST_ERR_CTP_EMPTY_JSON_BODY: () => NOT_MULTIPART,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => ({ httpStatus: 400, code: ErrorCodes.BAD_REQUEST, status: "request body does not match its Content-Length" }),
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({ httpStatus: 413, code: ErrorCodes.BAD_REQUEST, status: "request body too large" }),
};

export const BROKER_UNAVAILABLE_STATUS = "the message broker (NATS) is unavailable; nothing was stored, try again shortly";

/** Maps any error met while serving a request to an HTTP status and a `status` text. */
export function toFailure(err: unknown, limits: Config["http"]): Failure {
  if (err instanceof AuthError) return { httpStatus: err.httpStatus, code: err.code, status: err.message, challenge: err.challenge };
  if (err instanceof BrocapiError) return { httpStatus: err.httpStatus, code: err.code, status: err.message };
  const code = (err as { code?: string }).code ?? "";
  const known = FASTIFY_UPLOAD_ERRORS[code];
  if (known) return known(limits);
  if (isBrokerUnavailable(err)) {
    return { httpStatus: 503, code: ErrorCodes.BROKER_UNAVAILABLE, status: BROKER_UNAVAILABLE_STATUS };
  }
  const statusCode = (err as { statusCode?: number }).statusCode;
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    return { httpStatus: statusCode, code: code || ErrorCodes.UPLOAD_MALFORMED, status: `bad request: ${(err as Error).message}` };
  }
  // busboy reports a broken body with plain Errors ("Unexpected end of form", "Malformed part header").
  if (err instanceof Error && /form|part|boundary|multipart/i.test(err.message)) {
    return { httpStatus: 400, code: ErrorCodes.UPLOAD_MALFORMED, status: `malformed multipart body: ${err.message}` };
  }
  return { httpStatus: 500, code: "BROCAPI_INTERNAL", status: "internal error; see the api's log" };
}
