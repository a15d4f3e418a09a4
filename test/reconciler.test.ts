import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ANNOUNCE_GRACE_MS, Reconciler } from "../services/api/reconciler.js";
import { startWorker } from "../services/worker/worker.js";
import { fileRecordSchema, type FileRecord } from "../shared/jobs/job-record.js";
import { finishFile } from "../shared/jobs/finish-file.js";
import { JobEvents } from "../shared/events/job-events.js";
import { applyToShard, shardCount, shardOf, shardSchema } from "../shared/jobs/job-shards.js";
import { captureKey, JobStore, shardKey } from "../shared/jobs/job-store.js";
import { casUpdate } from "../shared/nats/kv-cas.js";
import { readSubject } from "../shared/nats/read-subject.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";
import { takeTasks } from "./helpers/tasks.js";

// Every job ends from durable state: what the tests below lose (a one-shot advisory, a result,
// a header write and its job.finished) is what a broker failover or a crash loses.

let nats: TestNats;
let stack: Stack;
const LIMITS = { BROCAPI_MAX_DELIVER: "2", BROCAPI_ACK_WAIT_MS: "1000" };

before(async () => {
  nats = await startTestNats();
  // The api only: the tests act as workers themselves, or start worker processes.
  stack = await startStack({ natsUrl: nats.url, services: ["api"], env: LIMITS });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

const jobs = (): JobStore => new JobStore(stack.ctx.topology);

async function submitOne(name: string, count = 1): Promise<string> {
  const paths = [];
  for (let i = 0; i < count; i++) {
    const path = join(stack.dataDir, `${name}-${i}.pcap`);
    await writeSyntheticPcap(path, { flows: 3, seed: 50 + i });
    paths.push(path);
  }
  const { httpStatus, body } = await submit(stack.url, paths, name);
  assert.equal(httpStatus, 200);
  return body.job_id;
}

async function eventTypes(jobId: string): Promise<string[]> {
  const out: string[] = [];
  const { jsm, names } = stack.ctx.topology;
  for await (const m of readSubject(jsm, names.eventsStream, names.eventsSubject(jobId))) out.push(m.json<{ type: string }>().type);
  return out;
}

test("a task acked without its result (a lost final update): the capture fails BROCAPI_TASK_LOST and the job ends, announced", async () => {
  const id = await submitOne("lost", 2);
  const [first, second] = await takeTasks(stack, 2);
  // Capture 1 finishes properly; capture 0 was started, then its result never reached the record.
  await jobs().updateCapture(id, 0, (f) => Object.assign(f, { state: "running", attempts: 1, startedAt: new Date().toISOString() }), { files: 2 });
  await jobs().updateCapture(id, 1, (f) => Object.assign(f, { state: "done", lines: { conn: 3 }, finishedAt: new Date().toISOString() }), { files: 2 });
  // Read while the tasks are still in flight, when no reconciler settles the job: once they are
  // acked, the api's own reconciler (every ack wait: a second here) may end it before this test's
  // does, by the same rule (it once did, between the acks and a read of the state here).
  assert.equal((await jobs().summary(id))!.state, "running", "the result of capture 0 never recorded: the job runs on");
  first!.m.ack();
  second!.m.ack();
  await eventually(async () => (await stack.ctx.topology.jsm.streams.info(stack.ctx.topology.names.tasksStream)).state.messages === 0, 10_000, "tasks acked");

  await new Reconciler(stack.ctx).runOnce();
  const job = await stack.waitForJob(id, 10_000);
  assert.equal(job.state, "partial");
  assert.equal(job.files[0]!.state, "failed");
  assert.equal(job.files[0]!.error?.code, "BROCAPI_TASK_LOST");
  assert.match(job.files[0]!.error!.message, /^its task left the work queue without a recorded result \(state was running\)$/, "ended by a reconciler, nothing else");
  assert.equal(job.files[1]!.state, "done");
  assert.deepEqual(job.counts, { total: 2, queued: 0, running: 0, done: 1, failed: 1 });
  assert.equal((await eventTypes(id)).at(-1), "job.finished");
  assert.deepEqual(await jobs().index.active().then((a) => a.map((j) => j.id).filter((j) => j === id)), [], "no longer listed as unfinished");
});

test("NATS gives a task up before any worker could record a start (deliveries lost, as in a broker failover): the task is put back and the capture analysed", async () => {
  const id = await submitOne("requeued");
  // Both deliveries (BROCAPI_MAX_DELIVER=2) taken and dropped, as by workers whose record writes
  // failed or whose pull requests died with a node: the capture never left `queued`.
  const [first] = await takeTasks(stack, 1);
  const [second] = await takeTasks(stack, 1);
  assert.deepEqual([first!.m.info.deliveryCount, second!.m.info.deliveryCount], [1, 2]);
  assert.equal((await jobs().capture(id, 0))!.state, "queued");
  // A worker asking for work makes NATS give the task up; the api running here (its advisory
  // handler or its reconciler) puts it back rather than failing the capture, and the worker runs it.
  const worker = await startWorker(stack.ctx);
  try {
    const job = await stack.waitForJob(id, 20_000);
    assert.equal(job.state, "done", `analysed in the task's second round, not failed as abandoned: ${JSON.stringify(job.files)}`);
  } finally {
    await worker.stop();
  }
  const { jsm, names } = stack.ctx.topology;
  assert.equal((await jsm.streams.info(names.tasksStream)).state.messages, 0, "the given-up task removed, its second round acked");
});

test("every capture final but the job's end never written nor announced: the reconciler finishes the job and sends job.finished once", async () => {
  const id = await submitOne("unannounced");
  const [taken] = await takeTasks(stack, 1);
  // The worker's capture and shard writes arrived; the header write and job.finished did not.
  const kv = stack.ctx.topology.jobs;
  const file = await casUpdate(kv, captureKey(id, 0), (c) => ({ ...fileRecordSchema.parse(c), state: "done" as const, lines: { conn: 3 }, finishedAt: new Date().toISOString() }));
  const sse = fetch(`${stack.url}/jobs/${id}/events`).then((r) => r.text());
  // Read before the shard write: from that write on, the api's own reconciler (every second here)
  // may end the job before this test's does, with the same compare-and-set and msg id.
  assert.equal((await jobs().header(id))!.state, "queued");
  const { shard, position } = shardOf(0, shardCount(1));
  await casUpdate(kv, shardKey(id, shard), (s) => applyToShard(shardSchema.parse(s), position, file));
  taken!.m.ack();

  await new Reconciler(stack.ctx).runOnce();
  await new Reconciler(stack.ctx).runOnce();
  assert.equal((await jobs().header(id))!.state, "done", "the header holds the end");
  const events = await sse;
  assert.match(events, /event: job\.finished/, "a follower waiting on the job hears its end");
  assert.deepEqual((await eventTypes(id)).filter((t) => t === "job.finished"), ["job.finished"], "announced once");
});

test("a job just made final whose worker is still announcing it: the reconciler leaves job.finished to the worker for a grace, then sends it once", async () => {
  const id = await submitOne("announcing");
  const [taken] = await takeTasks(stack, 1);
  // The worker's update made the job final; its file.finished and job.finished are still to come.
  await jobs().updateCapture(id, 0, (f) => Object.assign(f, { state: "done", lines: { conn: 3 }, finishedAt: new Date().toISOString() }), { files: 1 });
  taken!.m.ack();
  assert.equal((await jobs().header(id))!.state, "done");

  await new Reconciler(stack.ctx).runOnce();
  assert.deepEqual((await eventTypes(id)).filter((t) => t === "job.finished"), [], "not announced ahead of the worker's file.finished");
  await new Reconciler(stack.ctx).runOnce(Date.now() + ANNOUNCE_GRACE_MS);
  assert.deepEqual((await eventTypes(id)).filter((t) => t === "job.finished"), ["job.finished"], "announced once the grace is over");
});

test("the reconciler ends a job between the last capture's shard write and its worker's announcement: every file.finished is stored before job.finished", async () => {
  const id = await submitOne("overtaken", 2);
  const taken = await takeTasks(stack, 2);
  const events = new JobEvents(jetstream(stack.ctx.nc), stack.ctx.topology.names, stack.ctx.log);
  const done = (f: FileRecord): void => void Object.assign(f, { state: "done", lines: { conn: 3 }, finishedAt: new Date().toISOString() });
  await finishFile(jobs(), events, stack.ctx.log, id, 0, done, 2);
  // A reconciler pass lands where a worker acks: after the last capture's shard is written,
  // before the worker itself finds the job complete.
  await finishFile(jobs(), events, stack.ctx.log, id, 1, done, 2, () => new Reconciler(stack.ctx).runOnce().then(() => undefined));
  for (const t of taken) t.m.ack();
  assert.equal((await jobs().header(id))!.state, "done");
  const types = await eventTypes(id);
  assert.deepEqual(types.filter((t) => t !== "file.started"), ["job.queued", "file.finished", "file.finished", "job.finished"], `in the order stored: ${types.join(", ")}`);
});

test("a submission whose api died before its header: deleted once older than the grace", async () => {
  const { names } = stack.ctx.topology;
  const id = "01900000-0000-7000-8000-0000000000aa";
  await jobs().index.markActive(id);
  await jobs().createCaptures(id, [{ index: 0, name: "x.pcap", object: `${id}/0`, size: 1, sha256: "0".repeat(64), state: "queued", attempts: 0, lines: {} }]);
  await new Reconciler(stack.ctx).runOnce();
  assert.ok(await jobs().capture(id, 0), "kept within the grace: its api may still be queuing it");
  await new Reconciler(stack.ctx).runOnce(Date.now() + 120_000);
  assert.equal(await jobs().capture(id, 0), null);
  const info = await stack.ctx.topology.jsm.streams.info(names.jobsStream, { subjects_filter: names.jobActiveSubject(id) });
  assert.deepEqual(Object.keys(info.state.subjects ?? {}), [], "no longer listed as unfinished");
});
