import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jetstream, type ConsumerInfo } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { decodeBatch } from "../shared/messages/log-batch.js";
import { checkConnLines, directoryDelivery, jobStatus, submitJob, useFaultEnv, waitForFinalJob, waitForQuiet, withJsm, writeCaptures, type FaultEnv } from "./faults/harness.js";
import { metricValue, publishedLines } from "./helpers/job-counts.js";
import type { ServiceProcess } from "./helpers/processes.js";
import { eventually } from "./helpers/stack.js";

// nats-server 2.9 can ack a replicated consumer past batches it never delivered (nats-server#6566,
// docs/RELIABILITY.md). That cannot be caused on demand; its effect can: with the shipper stopped
// (SIGSTOP), the test takes a few batches from each instance's durable consumer as a pull client
// and acks them, so each consumer has acked batches its sink never received, and nothing is
// pending. What each instance's audit must then do, and must not do:
//
// - directory (can tell which batches it holds): replays the job by itself; every line once.
// - siem (syslog, default): records the shortfall on the job and logs the repair command; no replay.
// - siem-auto (syslog, autoReplay: true): replays the whole job (lines it had come again).
//   Both syslog instances run in two shipper processes (scaled): one of them acts, once.
// - conn-only (routing: conn only; the job also has dns lines): whole, nothing recorded.
// - late (start: new, a shipper started after the job): it never saw the job: skipped.

const CLI = fileURLToPath(new URL("../services/cli/main.js", import.meta.url));
const faultEnv = useFaultEnv({ BROCAPI_SINK_AUDIT_EVERY_MS: "300" });
const SKIPPED_BATCHES = 3;

async function writeConfig(env: FaultEnv, name: string, sinks: string): Promise<string> {
  const file = join(env.dataDir, name);
  await writeFile(file, `sinks:\n${sinks}`);
  return file;
}

/** Takes `n` batches from a sink instance's durable consumer and acks them: what the sink then never receives. (Fewer there: the test's time limit ends the wait.) */
async function ackBehindTheSink(env: FaultEnv, sink: string, n: number): Promise<number> {
  const nc = await connect({ servers: env.natsUrl });
  try {
    const consumer = await jetstream(nc).consumers.get(env.names.logsStream, env.names.sinkConsumer(sink));
    let lines = 0;
    let taken = 0;
    while (taken < n) {
      for await (const m of await consumer.fetch({ max_messages: n - taken, expires: 2_000 })) {
        lines += decodeBatch(m.headers, m.data).lineCount;
        await m.ackAck();
        taken++;
      }
    }
    return lines;
  } finally {
    await nc.close();
  }
}

/** Waits until `idle` holds for each consumer named, on `stream`. */
async function consumersWhere(env: FaultEnv, stream: string, consumers: readonly string[], idle: (c: ConsumerInfo) => boolean, what: string): Promise<void> {
  await eventually(async () => (await withJsm(env, async (jsm) => (await Promise.all(consumers.map((c) => jsm.consumers.info(stream, c)))).every(idle))) === true, 30_000, what);
}

const audits = async (metricsUrl: string, sink: string, result: string): Promise<number> =>
  metricValue(await (await fetch(metricsUrl)).text(), `brocapi_sink_audits_total{result="${result}",sink="${sink}"}`);

/** A shipper started through to its metrics endpoint: its last `sink.started` line comes before its replay consumer exists. */
async function startShipper(env: FaultEnv, name: string, config: string, sinks: readonly string[]): Promise<ServiceProcess> {
  const shipper = await env.procs.start("shipper", { name, env: { BROCAPI_CONFIG: config }, args: sinks.flatMap((s) => ["--sink", s]) });
  await eventually(async () => shipper.output().includes(`"event":"metrics.listening"`), 30_000, `${name} started`);
  return shipper;
}

test("a consumer acked past batches its sink never received: the directory sink replays them by itself (every line once, count = published), a syslog sink reports the shortfall unless opted in; routing, start=new never fire", { timeout: 180_000 }, async (t) => {
  const env = faultEnv();
  const report = (): string => env.procs.report();
  const api = await env.procs.start("api");
  await env.procs.start("worker");
  const late = join(env.dataDir, "late");
  const config = await writeConfig(
    env,
    "brocapi.yaml",
    [
      "  directory: { kind: directory }",
      '  siem: { kind: syslog, options: { prefix: "report_%s" } }',
      '  siem-auto: { kind: syslog, options: { prefix: "auto_%s" }, autoReplay: true }',
      `  conn-only: { kind: directory, options: { root: "${join(env.dataDir, "conn-only")}" }, logs: { include: [conn] } }`,
      "",
    ].join("\n"),
  );
  const sinks = ["directory", "siem", "siem-auto", "conn-only"];
  const shipper = await startShipper(env, "shipper", config, sinks);
  // A second process of each syslog instance, sharing its consumers, records and replay queue.
  const second = await startShipper(env, "shipper-2", config, ["siem", "siem-auto"]);
  const shippers = [shipper, second];
  const output = (): string => shippers.map((s) => s.output()).join("\n");

  for (const s of shippers) process.kill(s.pid, "SIGSTOP");
  let skipped: Record<string, number>;
  let jobId: string;
  const captures = await writeCaptures(env.dataDir, [1500, 1500], "audit", { dnsEvery: 10 });
  try {
    // The stopped shippers' outstanding pulls expire on the server, so nothing is sent to them while stopped.
    await consumersWhere(env, env.names.logsStream, sinks.map(env.names.sinkConsumer), (c) => c.num_waiting === 0, "the stopped shippers' pulls expired");
    jobId = await submitJob(api.url, captures, "audit");
    const job = await waitForFinalJob(api.url, jobId, report);
    assert.equal(job.state, "done");
    skipped = Object.fromEntries(await Promise.all(["directory", "siem", "siem-auto"].map(async (s) => [s, await ackBehindTheSink(env, s, SKIPPED_BATCHES)] as const)));
  } finally {
    for (const s of shippers) process.kill(s.pid, "SIGCONT");
  }
  const published = publishedLines((await jobStatus(api.url, jobId))!);
  const conn = captures.reduce((n, c) => n + c.flows, 0);
  assert.ok(published > conn, `the job has lines besides conn (dns): ${published}`);
  t.diagnostic(`published ${published} lines (${conn} conn); acked behind each sink: ${JSON.stringify(skipped)}`);

  const sinkOf = async (name: string) => (await jobStatus(api.url, jobId))?.sinks[name];
  await eventually(async () => (await sinkOf("directory"))?.replayed === skipped["directory"], 60_000, "the directory sink's audit replay counted").catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${report()}`);
  });
  await eventually(async () => (await sinkOf("siem-auto"))?.replayed === published, 60_000, "siem-auto's audit replay counted");
  await eventually(async () => (await sinkOf("siem"))?.audit !== undefined, 60_000, "siem's shortfall recorded");
  await waitForQuiet(env, sinks);
  await consumersWhere(env, env.names.replayStream, sinks.map(env.names.replayConsumer), (c) => c.num_pending + c.num_ack_pending === 0, "no replay queued or running");

  // directory: the skipped batches written by the replay, every line once, the count whole.
  const dir = await directoryDelivery(env, jobId, captures);
  assert.deepEqual({ missing: dir.missing, duplicates: dir.duplicates, received: dir.received, malformed: dir.malformed, headerBlocks: dir.headerBlocks }, { missing: 0, duplicates: 0, received: conn, malformed: 0, headerBlocks: 1 });
  const status = (await jobStatus(api.url, jobId))!;
  const directory = status.sinks["directory"]!;
  assert.equal(directory.lines + directory.replayed!, published, "directory: delivered + replayed = published, nothing counted twice");
  assert.equal(directory.lines, published - skipped["directory"]!);
  assert.deepEqual({ ...directory.audit, at: undefined }, { missing: skipped["directory"], action: "replay", at: undefined });

  // siem: reported, not replayed: rsyslog lacks exactly the skipped lines.
  let received = await env.rsyslog.received();
  const atRsyslog = (program: string): string[] => received.filter((r) => r.hostname === "audit" && r.program.startsWith(program)).map((r) => r.msg);
  // rsyslog writes what it received a moment later: wait for at least what the counts say was sent.
  await eventually(async () => ((received = await env.rsyslog.received()), atRsyslog("report_").length >= published - skipped["siem"]! && atRsyslog("auto_").length >= 2 * published - skipped["siem-auto"]!), 30_000, "rsyslog to have the syslog instances' lines");
  const siem = status.sinks["siem"]!;
  assert.deepEqual({ ...siem.audit, at: undefined }, { missing: skipped["siem"], action: "report", at: undefined });
  assert.equal(siem.replayed, undefined, "siem: nothing replayed");
  assert.equal(siem.lines, published - skipped["siem"]!);
  assert.equal(atRsyslog("report_").length, published - skipped["siem"]!, "rsyslog got what siem delivered, nothing more");
  const warnings = (event: string): string[] => output().split("\n").filter((l) => l.includes(`"event":"${event}"`) && l.includes(jobId));
  const [warning, ...more] = warnings("sink.audit_report");
  assert.ok(warning, `a sink.audit_report warning for the job:\n${output().slice(-4000)}`);
  assert.deepEqual(more, [], "logged by one of the two processes");
  const logged = JSON.parse(warning) as Record<string, unknown>;
  assert.deepEqual([logged.code, logged.sink, logged.missing, logged.repair], ["BROCAPI_SINK_SHORTFALL", "siem", skipped["siem"], `brocapi replay ${jobId} --sink siem`]);
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, "--url", api.url, "job", jobId]);
  assert.match(stdout, new RegExp(`siem  ${siem.lines} of ${published} lines delivered\\n    audit at .*: ${skipped["siem"]} lines missing with nothing pending; not replayed \\(autoReplay off\\): brocapi replay ${jobId} --sink siem`));
  assert.match(stdout, new RegExp(`directory  ${directory.lines} of ${published} lines delivered\\n    audit at .*: ${skipped["directory"]} lines missing with nothing pending; replay queued automatically`));

  // siem-auto: opted in, the whole job again: every line at least once at rsyslog.
  const auto = status.sinks["siem-auto"]!;
  assert.deepEqual({ ...auto.audit, at: undefined }, { missing: skipped["siem-auto"], action: "replay", at: undefined });
  const autoConn = received.filter((r) => r.hostname === "audit" && r.program === "auto_conn").map((r) => r.msg);
  assert.equal(checkConnLines(autoConn, captures).missing, 0, "siem-auto: every conn line at rsyslog");
  assert.equal(atRsyslog("auto_").length, 2 * published - skipped["siem-auto"]!, "one replay, though two processes audited the job");
  assert.equal(warnings("sink.audit_replay").length, 2, "one warning for directory, one for siem-auto");

  // conn-only: its routing takes conn alone, so its count (conn) is whole though below the job's lines: the api expects the same.
  assert.deepEqual({ ...status.sinks["conn-only"], updatedAt: undefined, seenAt: undefined }, { lines: conn, expected: conn, updatedAt: undefined, seenAt: undefined, running: true });
  assert.equal(await audits(shipper.metricsUrl, "conn-only", "whole"), 1);
  assert.equal(await audits(shipper.metricsUrl, "directory", "replay"), 1);
  const inBoth = async (sink: string, result: string): Promise<number> => (await audits(shipper.metricsUrl, sink, result)) + (await audits(second.metricsUrl, sink, result));
  assert.equal(await inBoth("siem", "report"), 1, "one process of siem reported it");
  assert.equal(await inBoth("siem-auto", "replay"), 1, "one process of siem-auto replayed it");

  // late: created after the job (start: new) with nothing of it delivered: not audited, no replay.
  const lateConfig = await writeConfig(env, "late.yaml", `  late: { kind: directory, options: { root: "${late}" }, start: new }\n`);
  const lateShipper = await startShipper(env, "late", lateConfig, ["late"]);
  await eventually(async () => (await audits(lateShipper.metricsUrl, "late", "started-after")) === 1, 30_000, "the late instance's audit of the job");
  assert.equal((await jobStatus(api.url, jobId))!.sinks["late"], undefined, "no record for late, and not listed as owing it: its consumer was created after the job");
  assert.deepEqual(await readdir(late).catch(() => []), [], "nothing written by late");
});
