import assert from "node:assert/strict";
import { test } from "node:test";
import { linesDeliveredMetric } from "../helpers/job-counts.js";
import {
  assertDeliveredCounts,
  assertMidJob,
  directoryConn,
  directoryDelivery,
  startApiAndShipper,
  submitJob,
  syslogConn,
  syslogDelivery,
  useFaultEnv,
  waitForFinalJob,
  waitForJobState,
  waitForLines,
  waitForQuiet,
  writeCaptures,
} from "./harness.js";

// nats-server dies with SIGKILL and comes back on the same port with the same store, as a
// supervisor would restart it. Every service reconnects by itself (unlimited reconnects).

const NATS_DOWN_MS = 2_000;

const faultEnv = useFaultEnv();

test("nats-server SIGKILLed and restarted while Zeek runs: the workers reconnect, publish and finish; every line once at the directory and at rsyslog", async (t) => {
  const env = faultEnv();
  const api = await env.procs.start("api");
  const shipper = await env.procs.start("shipper", { args: ["--sink", "directory", "--sink", "syslog"] });
  const captures = await writeCaptures(env.dataDir, [2000, 1500, 1000], "analysis");
  const tag = "nats-restart-analysis";
  // Zeek outlives the outage, so the logs are published after NATS is back.
  await env.procs.start("worker", { name: "worker-slow", env: { ZEEK_DOUBLE_DELAY_MS: "4000" } });
  const jobId = await submitJob(api.url, captures, tag);
  const running = await waitForJobState(api.url, jobId, (j) => j.files.some((f) => f.state === "running"), "a capture running", 30_000, () => env.procs.report());
  await env.crashNats(NATS_DOWN_MS);
  // Zeek was still running (4 s) when NATS went away: nothing had been published or shipped yet.
  const shippedAtRestart = (await directoryConn(env, jobId)).lines.length;
  assert.ok(running.files.every((f) => f.state !== "done"), "no capture had finished when NATS was killed");
  assert.equal(shippedAtRestart, 0, "no line had reached the directory before NATS came back");

  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  assert.deepEqual(
    job.files.map((f) => f.lines.conn),
    captures.map((c) => c.flows),
  );
  await waitForQuiet(env, ["directory", "syslog"]);
  const dir = await directoryDelivery(env, jobId, captures);
  const syslog = await syslogDelivery(env, tag, captures);
  t.diagnostic(`attempts ${JSON.stringify(job.files.map((f) => f.attempts))}; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.deepEqual(dir, { expected: 4500, received: 4500, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
  assert.deepEqual(syslog, { expected: 4500, received: 4500, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  const counts = await assertDeliveredCounts(env, api.url, jobId, ["directory", "syslog"], { exact: true });
  for (const sink of ["directory", "syslog"]) assert.equal(await linesDeliveredMetric(shipper.metricsUrl, sink), counts.published, `brocapi_lines_delivered_total{sink="${sink}"}`);
});

test("nats-server SIGKILLed and restarted while the sinks ship: the shippers reconnect and finish; directory exactly once, rsyslog nothing missing and repeats only of lines sent before the crash; the directory's count equals the lines published, syslog's the lines rsyslog received", async (t) => {
  const env = faultEnv();
  const api = await startApiAndShipper(env);
  const captures = await writeCaptures(env.dataDir, [4000, 4000, 4000], "shipping");
  const tag = "nats-restart-shipping";
  await env.procs.start("worker");
  const jobId = await submitJob(api.url, captures, tag);
  const killedAt = await waitForLines(async () => (await directoryConn(env, jobId)).lines.length, 1_000, "lines in the directory", () => env.procs.report());
  await env.crashNats(NATS_DOWN_MS);
  // Every repeat at rsyslog is a batch written before the crash whose ack was lost: rsyslog has it by now.
  const syslogAtRestart = (await syslogConn(env, tag)).length;
  t.diagnostic(`nats-server killed at ${killedAt} of 12000 lines in the directory`);
  assertMidJob(killedAt, 12_000, "the NATS crash");

  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  await waitForQuiet(env, ["directory", "syslog"]);
  const dir = await directoryDelivery(env, jobId, captures);
  const syslog = await syslogDelivery(env, tag, captures);
  t.diagnostic(`attempts ${JSON.stringify(job.files.map((f) => f.attempts))}; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.equal(dir.missing, 0);
  assert.equal(dir.duplicates, 0);
  assert.equal(dir.malformed, 0);
  assert.equal(dir.received, 12_000);
  assert.equal(dir.headerBlocks, 1);
  assert.equal(syslog.missing, 0);
  assert.equal(syslog.malformed, 0);
  assert.ok(syslog.duplicates <= syslogAtRestart, `repeats (${syslog.duplicates}) only of lines sent before the restart (${syslogAtRestart})`);
  // A batch counted whose ack the restart lost comes back: the directory sink's index knows its
  // process wrote it and it is not counted again; syslog cannot know, sends it again and counts it.
  const counts = await assertDeliveredCounts(env, api.url, jobId, ["directory", "syslog"], { exact: true, syslogSentAgainTag: tag });
  t.diagnostic(`counts ${JSON.stringify(counts)}`);
});
