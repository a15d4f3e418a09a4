import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { Reconciler } from "../services/api/reconciler.js";
import { startWorker, workerIdentity } from "../services/worker/worker.js";
import { captureKey, JobStore } from "../shared/jobs/job-store.js";
import { ShardStore } from "../shared/sharding/shard-store.js";
import { casUpdate } from "../shared/nats/kv-cas.js";
import { hostLinesKey, shardRecordKey, shardRecordSchema } from "../shared/sharding/shard-record.js";
import { taskSchema, type Task } from "../shared/messages/task.js";
import { readSubject } from "../shared/nats/read-subject.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { takeTasks } from "./helpers/tasks.js";

// The records of sharded captures (docs/SHARDING.md) where they can go wrong: reads of a deleted
// job, and the end of a capture when one of its updates is lost or two workers end it at once.

let nats: TestNats;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  // The api only: each test starts the workers it needs.
  stack = await startStack({ natsUrl: nats.url, services: ["api"] });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

/** Submits one synthetic capture in `shards` shards over HTTP; returns the job id. */
async function submitSharded(name: string, shards: number): Promise<string> {
  const path = join(stack.dataDir, `${name}.pcap`);
  await writeSyntheticPcap(path, { flows: 60, packetsPerFlow: 4, seed: 21 });
  const form = new FormData();
  form.append("file[]", new Blob([await readFile(path)]), `${name}.pcap`);
  form.append("shards", String(shards));
  const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
  assert.equal(res.status, 200);
  return ((await res.json()) as { job_id: string }).job_id;
}

test("GET /jobs/:id/captures/:n/shards of a deleted or unknown job is 404, not shards invented as queued", async () => {
  const worker = await startWorker(stack.ctx);
  try {
    const id = await submitSharded("deleted", 2);
    assert.equal((await stack.waitForJob(id)).state, "done");
    const shards = `${stack.url}/jobs/${id}/captures/0/shards`;
    const before = (await (await fetch(shards)).json()) as { shards: { state: string }[] };
    assert.deepEqual(before.shards.map((s) => s.state), ["done", "done"]);
    assert.equal((await fetch(`${stack.url}/jobs/${id}`, { method: "DELETE" })).status, 200);
    for (const url of [shards, `${stack.url}/jobs/01900000-0000-7000-8000-0000000000ab/captures/0/shards`]) {
      const res = await fetch(url);
      assert.equal(res.status, 404, url);
      assert.equal(((await res.json()) as { code: string }).code, "BROCAPI_JOB_NOT_FOUND");
    }
  } finally {
    await worker.stop();
  }
});

/**
 * Takes the tasks of a job of one capture in two shards and records both shards `done` (5 conn
 * lines each) in their own keys only: as a worker's shard write that landed while its write of the
 * capture's key lost its compare-and-set race (or the worker died between the two).
 */
async function shardsDoneCaptureNotTold(name: string) {
  const id = await submitSharded(name, 2);
  const taken = await takeTasks(stack, 2);
  assert.deepEqual(taken.map(({ task }) => [task.jobId, task.shard?.index]), [[id, 0], [id, 1]]);
  const store = new ShardStore(stack.ctx.topology.jobs, new JobStore(stack.ctx.topology));
  for (const { task } of taken) {
    const shard = task.shard as NonNullable<Task["shard"]>;
    await store.start({ jobId: id, fileIndex: task.fileIndex, shard, files: task.files }, 1, workerIdentity("test"), new Date().toISOString());
    await casUpdate(stack.ctx.topology.jobs, shardRecordKey(id, task.fileIndex, shard.index), (current) => ({
      ...shardRecordSchema.parse(current),
      ...{ state: "done" as const, lines: { conn: 5 }, finishedAt: new Date().toISOString(), zeekExitCode: 0 },
    }));
  }
  return { id, taken };
}

test("every shard done in its own record, the capture's update lost, the tasks acked: the reconciler settles the capture done from the shards' records, not BROCAPI_TASK_LOST", async () => {
  const { id, taken } = await shardsDoneCaptureNotTold("lost-update");
  for (const { m } of taken) m.ack();
  const { jsm, names } = stack.ctx.topology;
  await eventually(async () => (await jsm.streams.info(names.tasksStream)).state.messages === 0, 10_000, "tasks acked");
  await new Reconciler(stack.ctx).runOnce();
  const job = await stack.waitForJob(id, 10_000);
  assert.equal(job.state, "done", JSON.stringify(job.files));
  assert.equal(job.files[0]!.error, undefined);
  assert.equal(job.files[0]!.lines.conn, 10, "both shards' lines counted once");
});

test("every shard done in its own record, the capture's update lost, the tasks handed back: their redelivery settles the capture done", async () => {
  const { id, taken } = await shardsDoneCaptureNotTold("redelivered");
  // What a worker does when its record write failed: the task goes back for another delivery.
  for (const { m } of taken) m.nak();
  const worker = await startWorker(stack.ctx);
  try {
    const job = await stack.waitForJob(id, 20_000);
    assert.equal(job.state, "done", JSON.stringify(job.files));
    assert.equal(job.files[0]!.lines.conn, 10, "both shards' lines counted once");
  } finally {
    await worker.stop();
  }
});

test("a shard task NATS gave up on is judged by the shard's own record: a shard never started is put back, a shard started just now is left to its worker, whatever the capture's other shards did", async () => {
  const id = await submitSharded("abandon-own-record", 3);
  const taken = await takeTasks(stack, 3);
  const store = new ShardStore(stack.ctx.topology.jobs, new JobStore(stack.ctx.topology));
  const ref = (k: number) => ({ jobId: id, fileIndex: 0, shard: taken[k]!.task.shard as NonNullable<Task["shard"]>, files: 1 });
  // The capture's record: running since an hour ago, started twice (shard 0 on its second
  // delivery); shard 1 never reached a worker; shard 2 started just now, on its second delivery.
  await store.start(ref(0), 2, workerIdentity("test"), new Date(Date.now() - 3_600_000).toISOString());
  await store.start(ref(2), 2, workerIdentity("test"), new Date().toISOString());
  const capture = await new JobStore(stack.ctx.topology).capture(id, 0);
  assert.deepEqual([capture?.state, capture?.attempts, capture?.shards?.states], ["running", 2, "rqr"]);

  const { jsm, names } = stack.ctx.topology;
  const reconciler = new Reconciler(stack.ctx);
  const giveUp = async (k: number): Promise<boolean> => reconciler.abandon((await jsm.streams.getMessage(names.tasksStream, { seq: taken[k]!.m.seq }))!, 2, "advisory");
  try {
    assert.equal(await giveUp(1), false, "shard 1's deliveries never reached a worker: put back, not failed");
    assert.equal((await store.shard(ref(1))).state, "queued");
    let requeued: Task | undefined;
    for await (const m of readSubject(jsm, names.tasksStream, names.tasksSubject(id))) {
      const task = taskSchema.parse(m.json());
      if (task.shard?.index === 1) requeued = task;
    }
    assert.equal(requeued?.round, 1, "shard 1's task queued again for its next round");
    assert.equal(await giveUp(2), false, "shard 2 started just now: its worker may still hold it");
    assert.equal((await store.shard(ref(2))).state, "running");
    assert.equal((await new JobStore(stack.ctx.topology).capture(id, 0))?.state, "running", "the capture failed nothing");
  } finally {
    assert.equal((await fetch(`${stack.url}/jobs/${id}`, { method: "DELETE" })).status, 200);
    for (const { m } of taken) m.term();
  }
});

const hostLogs = { known_hosts: { header: null, lines: ['{"ts":1,"host":"10.0.0.1"}'] } };

test("a shard that ends with per-host lines reads its capture's key once (is the job still there?) and keeps the lines", async () => {
  const id = await submitSharded("host-lines", 2);
  const taken = await takeTasks(stack, 2);
  try {
    const store = new ShardStore(stack.ctx.topology.jobs, new JobStore(stack.ctx.topology));
    const ref = { jobId: id, fileIndex: 0, shard: taken[0]!.task.shard as NonNullable<Task["shard"]>, files: 1 };
    await store.start(ref, 1, workerIdentity("test"), new Date().toISOString());
    const watcher = await connect({ servers: nats.url });
    const reads: string[] = [];
    const bucket = stack.ctx.topology.names.jobsBucket;
    watcher.subscribe(`$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${captureKey(id, 0)}`, { callback: (_, m) => void reads.push(m.subject) });
    watcher.subscribe(`$JS.API.STREAM.MSG.GET.KV_${bucket}`, { callback: (_, m) => void reads.push(m.subject) });
    await watcher.flush();
    const shard = await store.finish(ref, (r) => Object.assign(r, { state: "done" }), hostLogs);
    await stack.ctx.nc.flush();
    await watcher.flush();
    await watcher.close();
    assert.equal(reads.length, 1, `reads of the capture's key: ${reads.join(", ")}`);
    assert.deepEqual([shard.state, shard.hostParts], ["done", 1]);
    assert.deepEqual(await store.hostLogs(id, 0, shard), hostLogs);
  } finally {
    assert.equal((await fetch(`${stack.url}/jobs/${id}`, { method: "DELETE" })).status, 200);
    for (const { m } of taken) m.term();
  }
});

test("a shard whose job was deleted while it ran writes nothing: its end and per-host lines are refused as BROCAPI_JOB_NOT_FOUND, and no shard key comes back", async () => {
  const id = await submitSharded("deleted-while-running", 2);
  const taken = await takeTasks(stack, 2);
  const store = new ShardStore(stack.ctx.topology.jobs, new JobStore(stack.ctx.topology));
  const ref = { jobId: id, fileIndex: 0, shard: taken[0]!.task.shard as NonNullable<Task["shard"]>, files: 1 };
  await store.start(ref, 1, workerIdentity("test"), new Date().toISOString());
  assert.equal((await fetch(`${stack.url}/jobs/${id}`, { method: "DELETE" })).status, 200);
  const notFound = { code: "BROCAPI_JOB_NOT_FOUND" };
  await assert.rejects(store.finish(ref, (r) => Object.assign(r, { state: "done" }), hostLogs), notFound);
  await assert.rejects(store.finish(ref, (r) => Object.assign(r, { state: "done" })), notFound);
  for (const { m } of taken) m.ack();
  const kv = stack.ctx.topology.jobs;
  assert.equal(await kv.get(shardRecordKey(id, 0, 0)), null, "the shard's key stays purged");
  assert.equal(await kv.get(hostLinesKey(id, 0, 0, 0)), null, "no per-host lines kept");
});
