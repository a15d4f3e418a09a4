import type { z } from "zod";
import type { ApiRole } from "../../shared/auth/api-token.js";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";

/** What the OpenAPI document says of one route; each route module exports its own. */
export interface RouteDoc {
  method: "get" | "post" | "delete";
  /** OpenAPI path, e.g. `/jobs/{id}`. */
  path: string;
  summary: string;
  /** Roles of which a token needs one when the api has tokens (`admin` may do everything), or `open` to all: every route says which. */
  roles: readonly ApiRole[] | "open";
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON request body. */
  body?: z.ZodObject;
  /** JSON responses by status; `content` names a non-JSON body (stream) instead. */
  responses: Record<number, { description: string; schema?: z.ZodType; content?: string }>;
}

/** Validates a request part with its schema; a 400 naming the field otherwise. */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new BrocapiError(ErrorCodes.BAD_REQUEST, `${issue.path.join(".") || "request"}: ${issue.message}`, { permanent: true, httpStatus: 400 });
}

export function notFound(code: typeof ErrorCodes.JOB_NOT_FOUND | typeof ErrorCodes.LOG_NOT_FOUND | typeof ErrorCodes.PCAP_NOT_FOUND, message: string): BrocapiError {
  return new BrocapiError(code, message, { permanent: true, httpStatus: 404 });
}
