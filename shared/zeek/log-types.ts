import { SEED_SKIPPED_LOG_TYPES } from "../config/schema.js";

/**
 * The log type of a Zeek log file (`conn.log` → `conn`), usable as a NATS subject token and a
 * file name: anything outside [A-Za-z0-9_-] becomes `_`.
 */
export function logTypeOf(fileName: string): string {
  return fileName.replace(/\.log$/, "").replace(/[^A-Za-z0-9_-]/g, "_") || "_";
}

/** The seed's fixed skip list plus the configured blacklist (given as `conn` or `conn.log`). */
export function skippedLogTypes(configured: readonly string[]): ReadonlySet<string> {
  return new Set([...SEED_SKIPPED_LOG_TYPES, ...configured.map(logTypeOf)]);
}
