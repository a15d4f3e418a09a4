import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { JobStore } from "../../shared/jobs/job-store.js";
import { startTestNats, type TestNats } from "../helpers/nats.js";
import { writeSyntheticPcap } from "../helpers/pcap-writer.js";
import { ServiceProcesses } from "../helpers/processes.js";
import { startStack, ZEEK_DOUBLE, type Stack } from "../helpers/stack.js";
import { submit } from "../helpers/submit.js";

let nats: TestNats;
let stack: Stack;
let killer: string;
const PREFIX = "abandoned";
const LIMITS = { BROCAPI_NATS_PREFIX: PREFIX, BROCAPI_MAX_DELIVER: "2", BROCAPI_ACK_WAIT_MS: "1000" };

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, services: ["api"], env: LIMITS });
  // A "Zeek" that answers --version, then kills the worker running it: as an OOM kill would.
  killer = join(stack.dataDir, "zeek-that-kills");
  await writeFile(killer, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "zeek version 8.2.2"; exit 0; fi\nkill -9 "$PPID"\nsleep 5\n');
  await chmod(killer, 0o755);
});

/** Two workers that each die with the delivery they take (BROCAPI_MAX_DELIVER=2), then a healthy one: NATS gives the task up. */
async function killEveryDelivery(services: ServiceProcesses, submitJob: () => Promise<string>): Promise<{ id: string; pids: number[] }> {
  const workers = [await services.start("worker", { name: "worker-1" }), await services.start("worker", { name: "worker-2" })];
  const id = await submitJob();
  const ends = await Promise.all(workers.map((w) => w.exited));
  assert.ok(ends.every((e) => e.signal === "SIGKILL"), JSON.stringify(ends));
  // NATS notices a task is out of deliveries when a worker next asks for work: a healthy one.
  await services.start("worker", { name: "worker-3", env: { ZEEK_BIN: ZEEK_DOUBLE } });
  return { id, pids: workers.map((w) => w.pid) };
}

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

test("a task whose worker dies on every delivery: the capture is marked failed (BROCAPI_TASK_ABANDONED) and leaves the work queue", async () => {
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: stack.dataDir, ZEEK_BIN: killer, ...LIMITS });
  try {
    const pcap = join(stack.dataDir, "a.pcap");
    await writeSyntheticPcap(pcap, { flows: 5, seed: 41 });
    const { id } = await killEveryDelivery(services, async () => (await submit(stack.url, [pcap], "doomed")).body.job_id);
    const job = await stack.waitForJob(id, 30_000);
    assert.equal(job.state, "failed");
    assert.equal(job.files[0]!.state, "failed");
    assert.equal(job.files[0]!.error?.code, "BROCAPI_TASK_ABANDONED");
    assert.match(job.files[0]!.error!.message, /abandoned after 2 deliveries/);
    const info = await stack.ctx.topology.jsm.streams.info(stack.ctx.topology.names.tasksStream);
    assert.equal(info.state.messages, 0, "the task left the work queue");
  } finally {
    await services.stopAll();
  }
});

test("merge mode: the recording's task abandoned, every capture of the recording ends with capture 0's error (BROCAPI_TASK_ABANDONED), none left to BROCAPI_TASK_LOST", async () => {
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: stack.dataDir, ZEEK_BIN: killer, ...LIMITS });
  try {
    const form = new FormData();
    form.append("merge", "true");
    for (let i = 0; i < 3; i++) {
      const pcap = join(stack.dataDir, `rec.pcap${i}`);
      await writeSyntheticPcap(pcap, { flows: 3, seed: 60 + i });
      form.append("file[]", new Blob([await readFile(pcap)]), `rec.pcap${i}`);
    }
    const { id, pids } = await killEveryDelivery(services, async () => {
      const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
      const body = (await res.json()) as { job_id: string; status: string };
      assert.equal(res.status, 200, body.status);
      return body.job_id;
    });
    const job = await stack.waitForJob(id, 30_000);
    assert.equal(job.state, "failed");
    const [first, ...others] = job.files;
    assert.equal(first!.error?.code, "BROCAPI_TASK_ABANDONED");
    assert.ok(pids.includes(first!.analysedBy!.pid), "capture 0 names a worker that tried");
    assert.deepEqual(
      others.map((f) => [f.state, f.error, f.mergedInto, f.lines]),
      others.map(() => ["failed", first!.error, 0, {}]),
      "the other captures end with capture 0's state and error, as when a worker ends the recording",
    );
    const info = await stack.ctx.topology.jsm.streams.info(stack.ctx.topology.names.tasksStream);
    assert.equal(info.state.messages, 0, "the task left the work queue");
  } finally {
    await services.stopAll();
  }
});

test("a worker killed on the task's last delivery while another job keeps the workers busy: the capture still fails BROCAPI_TASK_ABANDONED and its job ends", async () => {
  // A "Zeek" that never finishes: its worker heartbeats the busy job's task, so the worker
  // consumer always has a task in flight (num_ack_pending > 0) and the reconciler's idle-workers
  // round never looks at given-up tasks.
  const stuck = join(stack.dataDir, "zeek-that-runs-on");
  await writeFile(stuck, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "zeek version 8.2.2"; exit 0; fi\nsleep 600\n');
  await chmod(stuck, 0o755);
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: stack.dataDir, ZEEK_BIN: killer, ...LIMITS });
  try {
    const workers = [await services.start("worker", { name: "worker-1" }), await services.start("worker", { name: "worker-2" })];
    const pcap = join(stack.dataDir, "doomed.pcap");
    await writeSyntheticPcap(pcap, { flows: 5, seed: 43 });
    const doomed = (await submit(stack.url, [pcap], "doomed")).body.job_id;
    const ends = await Promise.all(workers.map((w) => w.exited));
    assert.ok(ends.every((e) => e.signal === "SIGKILL"), JSON.stringify(ends));
    // The busy job is queued behind the given-up task; the worker that asks next makes NATS give
    // the task up (the advisory, once) and takes the busy job. The last start was about one ack
    // wait ago, fewer than the reconciler's hold (5 ack waits): the advisory finds it held.
    const other = join(stack.dataDir, "busy.pcap");
    await writeSyntheticPcap(other, { flows: 5, seed: 44 });
    const busy = (await submit(stack.url, [other], "busy")).body.job_id;
    await services.start("worker", { name: "worker-3", env: { ZEEK_BIN: stuck } });
    const { jsm, names } = stack.ctx.topology;
    // Bound on the job's end: the hold (5 s here) plus rounds; far below the busy job's 600 s.
    const job = await stack.waitForJob(doomed, 30_000);
    assert.equal(job.state, "failed");
    assert.equal(job.files[0]!.error?.code, "BROCAPI_TASK_ABANDONED");
    assert.match(job.files[0]!.error!.message, /abandoned after 2 deliveries/);
    assert.ok(workers.some((w) => job.files[0]!.analysedBy?.pid === w.pid), "the record names a worker that tried");
    const consumer = await jsm.consumers.info(names.tasksStream, names.workerConsumer);
    assert.equal(consumer.num_ack_pending, 1, "the busy job was in flight all along");
    assert.equal((await new JobStore(stack.ctx.topology).summary(busy))?.state, "running", "the busy job is still running");
    assert.equal((await jsm.streams.info(names.tasksStream)).state.messages, 1, "the given-up task left the work queue; the busy one is there");
  } finally {
    await services.stopAll();
  }
});
