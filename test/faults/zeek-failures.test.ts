import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { directoryDelivery, submitJob, useFaultEnv, waitForFinalJob, waitForQuiet, workQueue, writeCaptures } from "./harness.js";

// Zeek itself fails: it hangs on one capture (the double's ZEEK_DOUBLE_HANG_SHA256), or refuses
// one. Both are permanent: the capture fails once and its task leaves the work queue, while the
// worker (one capture at a time here) goes on with the next.

const TIME_LIMIT_MS = 3_000;

const faultEnv = useFaultEnv();

test("Zeek hangs on one capture: BROCAPI_ZEEK_TIME_LIMIT_MS kills it, the capture fails with BROCAPI_ZEEK_TIME_LIMIT once, and the worker analyses the next capture", async () => {
  const env = faultEnv();
  const [hanging, ...good] = await writeCaptures(env.dataDir, [300, 500, 400], "hang");
  const sha256 = createHash("sha256").update(await readFile(hanging!.path)).digest("hex");
  const api = await env.procs.start("api");
  await env.procs.start("worker", {
    env: { BROCAPI_WORKER_CONCURRENCY: "1", BROCAPI_ZEEK_TIME_LIMIT_MS: String(TIME_LIMIT_MS), ZEEK_DOUBLE_HANG_SHA256: sha256 },
  });
  await env.procs.start("shipper", { args: ["--sink", "directory"] });
  const jobId = await submitJob(api.url, [hanging!, ...good], "zeek-hangs");
  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "partial");
  const [hung, ...rest] = job.files;
  assert.equal(hung!.state, "failed");
  assert.equal(hung!.error?.code, "BROCAPI_ZEEK_TIME_LIMIT");
  assert.match(hung!.error!.message, /time limit of 3000 ms/);
  assert.equal(hung!.attempts, 1, "a time limit is not retried");
  for (const [i, f] of rest.entries()) {
    assert.equal(f.state, "done");
    assert.equal(f.lines.conn, good[i]!.flows);
    // One capture at a time: the next one started only once the hanging run was given up.
    assert.ok(f.startedAt! >= hung!.finishedAt!, `${f.name} started after the hung capture failed`);
  }
  await waitForQuiet(env, ["directory"]);
  assert.deepEqual(await workQueue(env), { messages: 0, pending: 0 }, "every task left the work queue");
  const dir = await directoryDelivery(env, jobId, good);
  assert.deepEqual(dir, { expected: 900, received: 900, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0, headerBlocks: 1 });
});

test("a capture Zeek always rejects fails once with Zeek's stderr and is never retried: attempts 1, its task left the work queue, no second run after the ack wait", async () => {
  const env = faultEnv();
  const [good] = await writeCaptures(env.dataDir, [200], "rejects");
  const whole = await readFile(good!.path);
  const cut = join(env.dataDir, "cut.pcap");
  await writeFile(cut, whole.subarray(0, whole.length - 7));
  const api = await env.procs.start("api");
  // Salvage off: Zeek gets the cut capture as it is and refuses it.
  const worker = await env.procs.start("worker", { env: { BROCAPI_SALVAGE_TRUNCATED: "false" } });
  const jobId = await submitJob(api.url, [{ path: cut, flows: 0, slot: -1 }, good!], "zeek-rejects");
  const job = await waitForFinalJob(api.url, jobId, () => env.procs.report());
  assert.equal(job.state, "partial");
  const bad = job.files[0]!;
  assert.equal(bad.state, "failed");
  assert.equal(bad.attempts, 1);
  assert.equal(bad.zeekExitCode, 1);
  assert.equal(bad.error?.code, "BROCAPI_ZEEK_REJECTED_INPUT");
  assert.match(bad.zeekStderr!, /failed to read a packet from cut\.pcap: truncated dump file/);
  assert.equal(job.files[1]!.state, "done");

  // Past two ack waits (2 s each) a task that was merely nak'ed or left unacked would have come back.
  await new Promise((r) => setTimeout(r, 5_000));
  assert.deepEqual(await workQueue(env), { messages: 0, pending: 0 }, "the task left the work queue");
  const runs = worker.output().split("\n").filter((l) => l.includes(`"event":"task.started"`) && l.includes(jobId) && l.includes(`"file":0`));
  assert.equal(runs.length, 1, "Zeek ran once on the rejected capture");
  const again = await fetch(`${api.url}/jobs/${jobId}`).then((r) => r.json() as Promise<{ files: { attempts: number }[] }>);
  assert.equal(again.files[0]!.attempts, 1);
});
