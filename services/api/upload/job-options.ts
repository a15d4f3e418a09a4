import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import { linkTypeName } from "../../../shared/pcap/link-types.js";
import type { StoredFile } from "./read-form.js";

/** Shown in answers: enough of a refused value to recognise it, never a whole 64 KiB field. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/**
 * `profile=`: one of the configured profile names, exactly. Anything else is refused (400)
 * before another byte is stored, naming what may be chosen.
 */
export function parseProfile(value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) {
    throw new UploadError(ErrorCodes.UPLOAD_UNKNOWN_PROFILE, `unknown analysis profile ${shown(value)}: this server offers ${allowed.join(", ")}`, 400);
  }
  return value;
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off", ""]);

/** `merge=`: true/false (also 1/0, yes/no, on/off; an empty field is false, as an unticked box sends). */
export function parseMerge(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new UploadError(ErrorCodes.UPLOAD_BAD_FIELD, `merge must be true or false, not ${shown(value)}`, 400);
}

/**
 * Merge mode: the captures are one recording, so they must share one link type (Zeek reads one
 * per capture). Refused (400) naming two that differ; a capture whose link type was not found
 * near its start is left for the merge to judge.
 */
export function checkOneLinkType(stored: readonly StoredFile[]): void {
  const known = stored.filter((s) => s.linkType !== null);
  const other = known.find((s) => s.linkType !== known[0]!.linkType);
  if (!other) return;
  const first = known[0]!;
  throw new UploadError(
    ErrorCodes.UPLOAD_MIXED_LINK_TYPES,
    `merge=true needs captures of one link type, as one recording has: ${first.name} is link type ${first.linkType} (${linkTypeName(first.linkType!)}), ${other.name} is ${other.linkType} (${linkTypeName(other.linkType!)})`,
    400,
  );
}
