import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Real Zeek 8.2.2 outputs on public traces, copied from the brief into the repository
 * (test/fixtures/zeek; its INDEX.md says what is where). A fresh clone has them, so a test that
 * reads them never skips: if they are missing, every test file that imports this fails.
 */
export const RECORDINGS = fileURLToPath(new URL("../../../test/fixtures/zeek/", import.meta.url));
if (!existsSync(`${RECORDINGS}results.json`)) {
  throw new Error(`the Zeek recordings are missing from ${RECORDINGS}: they are part of the repository, restore test/fixtures/zeek`);
}
/** The captures those recordings were made from (and the malformed ones under bad/). */
export const TRACES = `${RECORDINGS}traces/`;
