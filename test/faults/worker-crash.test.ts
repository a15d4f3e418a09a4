import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assertDeliveredCounts,
  directoryDelivery,
  logBatchesSeen,
  logBatchesStored,
  startApiAndShipper,
  submitJob,
  syslogDelivery,
  useFaultEnv,
  waitForFinalJob,
  waitForJobState,
  waitForQuiet,
  writeCaptures,
} from "./harness.js";

// Workers die with SIGKILL (their Zeek runs with them); their tasks come back after the ack
// wait (BROCAPI_ACK_WAIT_MS=2000) to a second worker process, whose batches carry the same
// Nats-Msg-Id as the first run's, so the LOGS stream keeps one copy of each.

const faultEnv = useFaultEnv();

test("worker SIGKILLed while Zeek runs: the two captures it held are redelivered to a second worker; every line once at the directory and at rsyslog, in order", async (t) => {
  const env = faultEnv();
  const api = await startApiAndShipper(env);
  const captures = await writeCaptures(env.dataDir, [1500, 1200, 900], "zeek");
  // The first worker's Zeek runs would take a minute: it dies long before.
  const first = await env.procs.start("worker", { name: "worker-1", env: { ZEEK_DOUBLE_DELAY_MS: "60000" } });
  const tag = "worker-crash-zeek";
  const jobId = await submitJob(api.url, captures, tag);
  await waitForJobState(api.url, jobId, (j) => j.files.filter((f) => f.state === "running").length === 2, "two captures running", 30_000, () => env.procs.report());
  await first.crash();
  await env.procs.start("worker", { name: "worker-2" });

  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  assert.deepEqual(
    job.files.map((f) => f.lines.conn),
    captures.map((c) => c.flows),
  );
  assert.deepEqual(job.files.map((f) => f.attempts).sort(), [1, 2, 2], "the two captures worker-1 held ran again; the third only once");

  await waitForQuiet(env, ["directory", "syslog"]);
  const dir = await directoryDelivery(env, jobId, captures);
  const syslog = await syslogDelivery(env, tag, captures);
  t.diagnostic(`directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.deepEqual(dir, { expected: 3600, received: 3600, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
  assert.deepEqual(syslog, { expected: 3600, received: 3600, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  await assertDeliveredCounts(env, api.url, jobId, ["directory", "syslog"], { exact: true });
});

test("worker SIGKILLed while publishing a capture's batches: the retry re-publishes the same msg ids and the stream keeps one copy; every line once, in order", async (t) => {
  const env = faultEnv();
  const api = await startApiAndShipper(env);
  const captures = await writeCaptures(env.dataDir, [3000, 3000, 2000], "publish");
  const batches = captures.reduce((n, c) => n + Math.ceil(c.flows / 10), 0);
  const before = (await logBatchesStored(env))!;
  const first = await env.procs.start("worker", { name: "worker-3" });
  const publishing = await logBatchesSeen(env, 50);
  const tag = "worker-crash-publish";
  const jobId = await submitJob(api.url, captures, tag);
  await publishing.arrived;
  await first.crash();
  await publishing.close();
  const stored = (await logBatchesStored(env))! - before;
  t.diagnostic(`batches stored when worker-3 died: ${stored} of ${batches}`);
  assert.ok(stored > 0 && stored < batches, `killed mid-publish (${stored} of ${batches} batches stored)`);
  await env.procs.start("worker", { name: "worker-4" });

  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  assert.deepEqual(
    job.files.map((f) => f.lines.conn),
    captures.map((c) => c.flows),
  );
  assert.ok(job.files.some((f) => f.attempts === 2), "a capture was analysed again");
  assert.equal((await logBatchesStored(env))! - before, batches, "one message per batch in the stream");

  await waitForQuiet(env, ["directory", "syslog"]);
  const dir = await directoryDelivery(env, jobId, captures);
  const syslog = await syslogDelivery(env, tag, captures);
  t.diagnostic(`directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.deepEqual(dir, { expected: 8000, received: 8000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
  assert.deepEqual(syslog, { expected: 8000, received: 8000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  await assertDeliveredCounts(env, api.url, jobId, ["directory", "syslog"], { exact: true });
});
