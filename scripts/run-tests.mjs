// Runs every compiled test file (dist/test/**/*.test.js, and the examples' own tests in
// dist/examples/**) with Node's own test runner, through its `run()` API: `node --test` sorts the
// files it is given by name (Node 20 and 24 alike), so the order below would be lost.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";

/**
 * The runner starts files in this order. The longest go first, so that they run beside the many
 * short ones instead of alone at the end, where the last of them set the suite's length (in name
 * order the 10,000-file upload and `zeek-double` started in the last half, and `zeek-rejects`
 * last). Roughly longest first, the two CPU-bound scale files kept apart; wall seconds in a Node
 * 20 suite at load 7–16 (2026-12-02): the three-node cluster 160, three hosts 75, the 1,000-capture
 * job 97, SIGTERMs 102, the web page 54, the syslog outage 58, the NATS restart 62, the shipper
 * crash 50, the 10,000-file upload 142 (58 at load 6–10), the Zeek double 99, the cli 85, status
 * reads 60, two apis 44, bad input 44, `npm start` 28, syslog TLS 34, Zeek rejects 13; every
 * other file under 40 (a later suite at load ~10: 515 s, ending on files of 21 s, those two).
 */
const FIRST = [
  "/cluster/",
  "/hosts/",
  "/scale/big-job.",
  "/faults/sigterm.",
  "/web-page.",
  "/faults/syslog-outage.",
  "/faults/nats-restart.",
  "/faults/shipper-crash.",
  "/scale/upload-many.",
  "/zeek-double.",
  "/cli.",
  "/status-reads.",
  "/two-apis.",
  "/bad-input.",
  "/supervision/start-command.",
  "/syslog-tls.",
  "/zeek-rejects.",
];
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
const concurrency = Number(process.env.BROCAPI_TEST_CONCURRENCY ?? 3);
const stream = run({ files, concurrency });
// As `node --test` exits: 1 when any test or file failed (a failing `todo` test does not count).
stream.on("test:fail", (data) => {
  if (data.todo === undefined || data.todo === false) process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
