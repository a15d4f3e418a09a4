import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The brief's real Zeek 8.2.2 recordings beside the repo (`../shared/zeek`), when present. */
export const RECORDINGS = fileURLToPath(new URL("../../../../shared/zeek/", import.meta.url));
export const haveRecordings = existsSync(`${RECORDINGS}results.json`);
export const SKIP_NO_RECORDINGS = "../shared/zeek (real Zeek recordings) is not beside the repo: skipped";
