import type { ReceivedLine } from "./conformance.js";

/** A JSON line with Brocapi's `brocapi` envelope, as the conformance suite compares it: Zeek's fields (or `line`) alone. */
export function fromEnvelope(doc: Record<string, unknown>): ReceivedLine {
  // `@timestamp` is what the elasticsearch sink adds from `ts`.
  const { brocapi, line, "@timestamp": _at, ...zeek } = doc as { brocapi: { job: string; log: string }; line?: string; "@timestamp"?: string };
  return { job: brocapi.job, log: brocapi.log, text: typeof line === "string" ? line : JSON.stringify(zeek) };
}
