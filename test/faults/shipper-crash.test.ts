import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertDeliveredCounts,
  assertMidJob,
  directoryConn,
  directoryDelivery,
  submitJob,
  syslogConn,
  syslogDelivery,
  useFaultEnv,
  waitForFinalJob,
  waitForLines,
  waitForQuiet,
  writeCaptures,
} from "./harness.js";

// Shippers die with SIGKILL in the middle of their work. What they had fetched or written but not
// acked comes back after the sink consumer's ack wait (30 s) to the process that carries on.

const faultEnv = useFaultEnv({ BROCAPI_BATCH_LINES: "5" });

test("directory and syslog shippers SIGKILLed mid-batch: a new directory shipper and a second syslog shipper carry on; directory exactly once, rsyslog nothing missing and repeats only of lines sent before the crash; counts at least the lines published, syslog's at most what rsyslog received", async (t) => {
  const env = faultEnv();
  const api = await env.procs.start("api");
  await env.procs.start("worker");
  const captures = await writeCaptures(env.dataDir, [4000, 4000, 4000], "ship");
  const total = 12_000;
  const tag = "shipper-crash";
  const directory1 = await env.procs.start("shipper", { name: "directory-1", args: ["--sink", "directory"] });
  const syslog1 = await env.procs.start("shipper", { name: "syslog-1", args: ["--sink", "syslog"] });
  await env.procs.start("shipper", { name: "syslog-2", args: ["--sink", "syslog"] });
  const jobId = await submitJob(api.url, captures, tag);

  const report = (): string => env.procs.report();
  const [atDirectoryKill, atSyslogKill] = await Promise.all([
    (async () => {
      const n = await waitForLines(async () => (await directoryConn(env, jobId)).lines.length, 1_000, "lines in the directory", report);
      await directory1.crash();
      await env.procs.start("shipper", { name: "directory-2", args: ["--sink", "directory"] });
      return n;
    })(),
    (async () => {
      const n = await waitForLines(async () => (await syslogConn(env, tag)).length, 1_000, "lines at rsyslog", report);
      await syslog1.crash();
      return n;
    })(),
  ]);
  // Every repeat is a line syslog-1 had sent before it died, so rsyslog had it by now.
  const syslogAfterKill = (await syslogConn(env, tag)).length;
  t.diagnostic(`killed directory-1 at ${atDirectoryKill} and syslog-1 at ${atSyslogKill} of ${total} lines`);
  assertMidJob(atDirectoryKill, total, "the directory shipper's kill");
  assertMidJob(atSyslogKill, total, "the syslog shipper's kill");

  const job = await waitForFinalJob(api.url, jobId, report);
  assert.equal(job.state, "done");
  await waitForQuiet(env, ["directory", "syslog"]);
  const dir = await directoryDelivery(env, jobId, captures);
  const syslog = await syslogDelivery(env, tag, captures);
  t.diagnostic(`directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.equal(dir.missing, 0);
  assert.equal(dir.duplicates, 0);
  assert.equal(dir.malformed, 0);
  assert.equal(dir.received, total);
  assert.equal(dir.headerBlocks, 1);
  assert.equal(syslog.missing, 0);
  assert.equal(syslog.malformed, 0);
  assert.ok(syslog.duplicates <= syslogAfterKill, `repeats (${syslog.duplicates}) only of lines sent before the kill (${syslogAfterKill})`);
  t.diagnostic(`counts ${JSON.stringify(await assertDeliveredCounts(env, api.url, jobId, ["directory", "syslog"], { exact: false, tag, batchLines: 5 }))}`);
});
