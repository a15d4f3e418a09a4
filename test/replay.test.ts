import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { SinkProgressStore } from "../shared/jobs/sink-progress-store.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startTestRsyslog, type TestRsyslog } from "./helpers/rsyslog.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

const CLI = fileURLToPath(new URL("../services/cli/main.js", import.meta.url));
let nats: TestNats;
let rsyslog: TestRsyslog;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  rsyslog = await startTestRsyslog();
  const dir = await mkdtemp(join(tmpdir(), "brocapi-replay-"));
  const file = join(dir, "brocapi.yaml");
  const target = `tcp://127.0.0.1:${rsyslog.port}`;
  await writeFile(file, `sinks:\n  siem-a: { kind: syslog, options: { target: "${target}", prefix: "a_%s" } }\n  siem-b: { kind: syslog, options: { target: "${target}", prefix: "b_%s" } }\n`);
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_CONFIG: file, BROCAPI_BATCH_LINES: "50" } });
});

after(async () => {
  await stack?.stop();
  await rsyslog?.cleanup();
  await nats?.cleanup();
});

const replay = (id: string, body: unknown) => fetch(`${stack.url}/jobs/${id}/replay`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("a replay reaches one sink instance and leaves the other untouched; counted apart; the CLI queues one too", async () => {
  const pcap = join(stack.dataDir, "r.pcap");
  await writeSyntheticPcap(pcap, { flows: 300, seed: 9, dnsEvery: 4 });
  const { body } = await submit(stack.url, [pcap], "case-r");
  const job = await stack.waitForJob(body.job_id);
  const total = Object.values(job.lines).reduce((a, b) => a + b, 0);
  const count = async (prefix: string): Promise<number> => (await rsyslog.received()).filter((r) => r.program.startsWith(prefix)).length;
  await eventually(async () => (await count("a_")) >= total && (await count("b_")) >= total, 30_000, "first delivery");

  const res = await replay(job.id, { sink: "siem-a" });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { status: "replay queued", job_id: job.id, sink: "siem-a", success: true });
  const store = new SinkProgressStore(stack.ctx.topology.sinks);
  await eventually(async () => (await store.ofJob(job.id))["siem-a"]?.replayed === total, 30_000, "the replay counted");
  // Counted once sent: rsyslog writes what it read to its file a moment later.
  await eventually(async () => (await count("a_")) >= 2 * total, 10_000, "the replayed lines at rsyslog");
  assert.equal(await count("a_"), 2 * total, "siem-a got every line again");
  assert.equal(await count("b_"), total, "siem-b untouched");
  const a = (await rsyslog.received()).filter((r) => r.program.startsWith("a_")).map((r) => r.msg);
  assert.deepEqual(a.slice(total), a.slice(0, total), "the same lines, in the same order");
  // The live runner counts what it delivered within a second of writing it: wait for that, then compare.
  await eventually(async () => (await store.ofJob(job.id))["siem-a"]?.lines === total && (await store.ofJob(job.id))["siem-b"]?.lines === total, 10_000, "the first delivery counted");
  const records = await store.ofJob(job.id);
  assert.equal(records["siem-a"]!.lines, total, "delivered lines are not changed by a replay");
  assert.equal(records["siem-b"]!.replayed, undefined);

  const { stdout } = await promisify(execFile)(process.execPath, [CLI, "--url", stack.url, "replay", job.id, "--sink", "siem-b"]);
  assert.match(stdout, /^replay queued: .* to siem-b/);
  await eventually(async () => (await store.ofJob(job.id))["siem-b"]?.replayed === total, 30_000, "the CLI's replay counted");
  await eventually(async () => (await count("b_")) >= 2 * total, 10_000, "the CLI's replayed lines at rsyslog");
  assert.equal(await count("b_"), 2 * total);
  assert.equal(await count("a_"), 2 * total);
});

test("a message on the replay subject that is not a request is dropped, logged and counted; the requests after it are replayed", async () => {
  const pcap = join(stack.dataDir, "m.pcap");
  await writeSyntheticPcap(pcap, { flows: 40, seed: 11 });
  const { body } = await submit(stack.url, [pcap], "case-m");
  const job = await stack.waitForJob(body.job_id);
  const total = Object.values(job.lines).reduce((a, b) => a + b, 0);
  const { names, jsm } = stack.ctx.topology;
  const js = jetstream(stack.ctx.nc);
  await js.publish(names.replaySubject("siem-b"), "not json");
  await js.publish(names.replaySubject("siem-b"), JSON.stringify({ jobId: job.id }));
  assert.equal((await replay(job.id, { sink: "siem-b" })).status, 202);
  const store = new SinkProgressStore(stack.ctx.topology.sinks);
  await eventually(async () => (await store.ofJob(job.id))["siem-b"]?.replayed === total, 30_000, "the request behind the malformed ones replayed");
  await eventually(async () => (await jsm.streams.info(names.replayStream)).state.messages === 0, 10_000, "the malformed messages left the work queue");
  const metricsText = await (await fetch(`${stack.url}/metrics`)).text();
  assert.match(metricsText, /brocapi_sink_errors_total\{sink="siem-b",stage="replay"\} 2/);
});

test("replay answers: 400 without a sink, 404 for an unknown job or sink, 410 once the lines expired", async () => {
  const pcap = join(stack.dataDir, "x.pcap");
  await writeSyntheticPcap(pcap, { flows: 10, seed: 3 });
  const { body } = await submit(stack.url, [pcap], "gone");
  const job = await stack.waitForJob(body.job_id);
  assert.equal((await replay(job.id, {})).status, 400);
  const unknownSink = await replay(job.id, { sink: "nope" });
  assert.equal(unknownSink.status, 404);
  assert.match(((await unknownSink.json()) as { status: string }).status, /no sink instance named nope has run; known: siem-a, siem-b/);
  assert.equal((await replay("0193f1e0-0000-7000-8000-000000000000", { sink: "siem-a" })).status, 404);
  // Retention ran out for this job's lines.
  await stack.ctx.topology.jsm.streams.purge(stack.ctx.topology.names.logsStream, { filter: stack.ctx.topology.names.logsOfJob(job.id) });
  const expired = await replay(job.id, { sink: "siem-a" });
  assert.equal(expired.status, 410);
  const answer = (await expired.json()) as { status: string; code: string; success: boolean };
  assert.equal(answer.code, "BROCAPI_LOGS_EXPIRED");
  assert.match(answer.status, /conn lines of job .* have expired/);
  const usage = await promisify(execFile)(process.execPath, [CLI, "--url", stack.url, "replay", job.id]).catch((err: { code: number; stderr: string }) => err);
  assert.equal((usage as { code: number }).code, 2);
  assert.match((usage as { stderr: string }).stderr, /--sink NAME is required/);
});
