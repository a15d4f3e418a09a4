import { ErrorCodes, UploadError } from "../../../shared/errors.js";

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
