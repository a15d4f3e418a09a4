// Runs every compiled test file (dist/test/**/*.test.js, and the examples' own tests in
// dist/examples/**) with Node's own test runner.
// Node 20's `--test` does not expand globs itself, so the list is built here.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The runner starts files in the order given. The longest files (a three-node cluster's faults
 * ~130 s, three hosts ~60 s, the 10,000-file upload and the 1,000-capture job ~60–90 s each) go
 * first, so they run beside the many short ones instead of alone at the end, where the last of
 * them set the suite's length; the two CPU-bound scale files are kept apart by the others.
 */
const FIRST = ["/cluster/", "/hosts/", "/scale/big-job", "/faults/", "/scale/"];
const startRank = (file) => {
  const rank = FIRST.findIndex((part) => file.includes(part));
  return rank === -1 ? FIRST.length : rank;
};

const files = ["dist/test", "dist/examples"]
  .flatMap((root) => readdirSync(root, { recursive: true }).map((f) => join(root, String(f))))
  .filter((f) => f.endsWith(".test.js"))
  .filter((f) => process.argv.length <= 2 || process.argv.slice(2).some((pick) => f.includes(pick)))
  .sort((a, b) => startRank(a) - startRank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// Three test files at a time: most of a file's time is spent waiting on processes it started
// (NATS, services, rsyslog, faults held for seconds), so three share a 2-core machine (load ~4)
// and the suite fits CI's budget on two Node versions (Node 20 suite here: 614 s with two at a
// time, 486 s with three). Each file uses its own ports and temp dirs.
const concurrency = process.env.BROCAPI_TEST_CONCURRENCY ?? "3";
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", `--test-concurrency=${concurrency}`, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
