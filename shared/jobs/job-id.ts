import { randomBytes } from "node:crypto";

export { JOB_ID_PATTERN } from "./job-states.js";

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Job ids sort by
 * submission time as plain strings, so listing jobs newest first needs no record reads.
 */
export function newJobId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
