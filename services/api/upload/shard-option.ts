import type { Config } from "../../../shared/config/schema.js";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";

/** What a submission's `shards` field asks for: a number of shards per capture, or `auto`. */
export type ShardsAsked = number | "auto";

/** Reads the `shards` form field: `auto`, or a whole number from 1 (not sharded) to `sharding.max`. */
export function parseShards(value: string, max: number): ShardsAsked {
  const text = value.trim().toLowerCase();
  if (text === "auto") return "auto";
  const n = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw new UploadError(ErrorCodes.UPLOAD_BAD_SHARDS, `shards must be "auto" or a whole number from 1 to ${max} (BROCAPI_SHARD_MAX), not ${JSON.stringify(value.slice(0, 40))}`, 400);
  }
  return n;
}

/**
 * Shards for one capture of `size` bytes: as asked, or for `auto` none below
 * `sharding.minBytes` and one per `sharding.targetBytes` above (2 … `sharding.max`). 1 = whole.
 */
export function shardsFor(asked: ShardsAsked | null, size: number, sharding: Config["sharding"]): number {
  if (asked === null) return 1;
  if (asked !== "auto") return asked;
  if (size < sharding.minBytes) return 1;
  return Math.min(sharding.max, Math.max(2, Math.ceil(size / sharding.targetBytes)));
}
