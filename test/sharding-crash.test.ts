import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { ServiceProcesses } from "./helpers/processes.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { JobStore } from "../shared/jobs/job-store.js";

let nats: TestNats;
let stack: Stack;
let procs: ServiceProcesses;

before(async () => {
  nats = await startTestNats();
  // api and directory shipper in this process; workers as processes a test can SIGKILL.
  stack = await startStack({ natsUrl: nats.url, services: ["api", "shipper"], env: { BROCAPI_ACK_WAIT_MS: "2000" } });
  procs = new ServiceProcesses({
    NATS_URL: nats.url,
    BROCAPI_NATS_PREFIX: stack.config.nats.prefix,
    BROCAPI_DATA_DIR: stack.dataDir,
    BROCAPI_ACK_WAIT_MS: "2000",
    BROCAPI_WORKER_CONCURRENCY: "1",
  });
});

after(async () => {
  await procs?.stopAll();
  await stack?.stop();
  await nats?.cleanup();
});

test("a worker SIGKILLed mid-shard: only that shard runs again, on another worker; every line once", async () => {
  const path = join(stack.dataDir, "big.pcap");
  await writeSyntheticPcap(path, { flows: 600, packetsPerFlow: 6, dnsEvery: 6, seed: 8 });
  const form = new FormData();
  form.append("file[]", new Blob([await readFile(path)]), "big.pcap");
  form.append("shards", "3");
  // The first worker's Zeek runs would take a minute: it dies holding one shard.
  const first = await procs.start("worker", { name: "worker-1", env: { ZEEK_DOUBLE_DELAY_MS: "60000", BROCAPI_WORKER_NAME: "worker-1" } });
  const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
  const { job_id: jobId } = (await res.json()) as { job_id: string };
  const jobs = new JobStore(stack.ctx.topology);
  await eventually(async () => (await jobs.capture(jobId, 0))?.shards?.states.includes("r") ?? false, 30_000, "a shard running on worker-1");
  const held = (await jobs.capture(jobId, 0))!.shards!.states.indexOf("r");
  await procs.start("worker", { name: "worker-2", env: { BROCAPI_WORKER_NAME: "worker-2" } });
  // worker-2 does the two other shards while worker-1 holds its one.
  await eventually(async () => (await jobs.capture(jobId, 0))?.shards?.states.split("").filter((c) => c === "d").length === 2, 30_000, "the other two shards done");
  await first.crash();

  const job = await stack.waitForJob(jobId, 60_000);
  assert.equal(job.state, "done");
  const { shards } = (await (await fetch(`${stack.url}/jobs/${jobId}/captures/0/shards`)).json()) as { shards: { index: number; attempts: number; analysedBy: { worker: string } }[] };
  assert.deepEqual(shards.map((s) => s.attempts), shards.map((s) => (s.index === held ? 2 : 1)), "only the shard worker-1 held ran again");
  assert.ok(shards.every((s) => s.analysedBy.worker === "worker-2"));
  assert.equal(job.files[0]!.lines.conn, 600, "one conn line per flow");
  const dir = join(stack.config.directory.root, jobId);
  await eventually(async () => (await readFile(join(dir, "conn.log"), "utf8").catch(() => "")).split("\n").filter((l) => l && !l.startsWith("#")).length >= 600);
  const lines = (await readFile(join(dir, "conn.log"), "utf8")).split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(lines.length, 600, "every conn line once in the directory sink");
  assert.equal(new Set(lines).size, 600);
});
