import assert from "node:assert/strict";
import { test } from "node:test";
import type { ServiceProcess } from "../helpers/processes.js";
import { linesDeliveredMetric } from "../helpers/job-counts.js";
import {
  assertDeliveredCounts,
  assertMidJob,
  directoryDelivery,
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

// rsyslog (the receiver in front of the SIEM) goes away for OUTAGE_MS and comes back. The syslog
// sink retries the same batch in place, heartbeating it, so nothing is handed elsewhere or
// dropped; the directory sink, on its own consumer, is not held up. 10 s keeps CI short; the
// retry backoff is capped at 10 s, so a longer outage goes the same way with more retries:
// FAULT_SYSLOG_OUTAGE_MS=60000 runs it for a minute (docs/RELIABILITY.md).

const OUTAGE_MS = Number(process.env.FAULT_SYSLOG_OUTAGE_MS ?? 10_000);

const faultEnv = useFaultEnv();

const sinkWriteErrors = async (all: ServiceProcess): Promise<number> => {
  const text = await (await fetch(`${all.url}/metrics`)).text();
  const m = /^brocapi_sink_errors_total\{sink="syslog",stage="write"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
};

test(`rsyslog down for ${OUTAGE_MS / 1000} s while a job is analysed and shipped: the job shows the syslog error, /metrics counts write errors, and the backlog arrives once rsyslog is back`, async (t) => {
  const env = faultEnv();
  // The all-in-one process: its api serves the sink's metrics.
  const all = await env.procs.start("all");
  const captures = await writeCaptures(env.dataDir, [2000, 2000], "outage");
  const tag = "syslog-outage";
  await env.rsyslog.stop();
  const downSince = Date.now();
  const jobId = await submitJob(all.url, captures, tag);

  const job = await waitForFinalJob(all.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  const failing = await waitForJobState(all.url, jobId, (j) => Boolean(j.sinks.syslog?.lastError), "sinks.syslog.lastError", 30_000, () => env.procs.report());
  assert.match(failing.sinks.syslog!.lastError!, /syslog tcp:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  assert.equal(failing.sinks.syslog!.lines, 0, "nothing counted as delivered to syslog");
  assert.ok((await sinkWriteErrors(all)) > 0, "brocapi_sink_errors_total{sink=syslog,stage=write} > 0");
  // The directory sink has its own consumer: it is not held up by syslog.
  await waitForLines(async () => (await directoryDelivery(env, jobId, captures)).received, 4_000, "every line in the directory", () => env.procs.report());

  await new Promise((r) => setTimeout(r, Math.max(0, downSince + OUTAGE_MS - Date.now())));
  assert.deepEqual(await syslogConn(env, tag), [], "nothing reached rsyslog during the outage: the whole job was held back");
  await env.rsyslog.start();
  await waitForQuiet(env, ["directory", "syslog"]);
  const syslog = await syslogDelivery(env, tag, captures);
  const dir = await directoryDelivery(env, jobId, captures);
  t.diagnostic(`write errors ${await sinkWriteErrors(all)}; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
  assert.deepEqual(syslog, { expected: 4000, received: 4000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
  assert.deepEqual(dir, { expected: 4000, received: 4000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
  const counts = await assertDeliveredCounts(env, all.url, jobId, ["directory", "syslog"], { exact: true });
  assert.equal(counts.published, 4000);
  // One process did all the work, so its counter holds every line once.
  for (const sink of ["directory", "syslog"]) assert.equal(await linesDeliveredMetric(`${all.url}/metrics`, sink), 4000, `brocapi_lines_delivered_total{sink="${sink}"}`);
});

test("rsyslog stopped in the middle of shipping and started again: nothing missing at rsyslog, repeats only of lines it had read; directory exactly once; counts equal the lines published", async (t) => {
  const env = faultEnv();
  const all = await env.procs.start("all");
  const captures = await writeCaptures(env.dataDir, [4000, 4000, 4000], "midway");
  const tag = "syslog-midway";
  const jobId = await submitJob(all.url, captures, tag);
  const stoppedAt = await waitForLines(async () => (await syslogConn(env, tag)).length, 1_000, "lines at rsyslog", () => env.procs.report());
  await env.rsyslog.stop();
  // What rsyslog had read when it stopped: the only lines a replay can repeat.
  const readBeforeStop = (await syslogConn(env, tag)).length;
  await new Promise((r) => setTimeout(r, 3_000));
  await env.rsyslog.start();
  t.diagnostic(`rsyslog stopped at ${stoppedAt} (had read ${readBeforeStop}) of 12000 lines`);
  assertMidJob(readBeforeStop, 12_000, "the rsyslog stop");

  await waitForFinalJob(all.url, jobId, () => env.procs.report());
  await waitForQuiet(env, ["directory", "syslog"]);
  const syslog = await syslogDelivery(env, tag, captures);
  const dir = await directoryDelivery(env, jobId, captures);
  t.diagnostic(`syslog ${JSON.stringify(syslog)}; directory ${JSON.stringify(dir)}`);
  assert.equal(syslog.missing, 0);
  assert.equal(syslog.malformed, 0);
  assert.ok(syslog.duplicates <= readBeforeStop, `repeats (${syslog.duplicates}) only of lines sent before the stop (${readBeforeStop})`);
  assert.deepEqual(dir, { expected: 12_000, received: 12_000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
  await assertDeliveredCounts(env, all.url, jobId, ["directory", "syslog"], { exact: true });
});
