import assert from "node:assert/strict";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { ServiceProcesses } from "./helpers/processes.js";
import { eventually, startStack, ZEEK_DOUBLE, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;
const LIMITS = { BROCAPI_MAX_DELIVER: "2", BROCAPI_ACK_WAIT_MS: "1000" };

before(async () => {
  nats = await startTestNats();
  // No service in this process: the api runs as a process, absent while NATS gives up on the task.
  stack = await startStack({ natsUrl: nats.url, services: [], env: LIMITS });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

test("the MAX_DELIVERIES advisory sent while no api listened: the next api fails the capture (BROCAPI_TASK_ABANDONED) once the workers are idle", async () => {
  // A "Zeek" that answers --version, then kills the worker running it: as an OOM kill would.
  const killer = join(stack.dataDir, "zeek-that-kills");
  await writeFile(killer, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "zeek version 8.2.2"; exit 0; fi\nkill -9 "$PPID"\nsleep 5\n');
  await chmod(killer, 0o755);
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_NATS_PREFIX: stack.config.nats.prefix, BROCAPI_DATA_DIR: stack.dataDir, ZEEK_BIN: killer, ...LIMITS });
  try {
    const api = await services.start("api");
    const pcap = join(stack.dataDir, "a.pcap");
    await writeSyntheticPcap(pcap, { flows: 5, seed: 41 });
    const { body } = await submit(api.url, [pcap], "doomed");
    await api.terminate();
    const workers = [await services.start("worker", { name: "worker-1" }), await services.start("worker", { name: "worker-2" })];
    const ends = await Promise.all(workers.map((w) => w.exited));
    assert.ok(ends.every((e) => e.signal === "SIGKILL"), JSON.stringify(ends));
    // A healthy worker asking for work makes NATS give the task up (and send the advisory, to no one).
    await services.start("worker", { name: "worker-3", env: { ZEEK_BIN: ZEEK_DOUBLE } });
    const { jsm, names } = stack.ctx.topology;
    await eventually(async () => {
      const c = await jsm.consumers.info(names.tasksStream, names.workerConsumer);
      return c.num_ack_pending === 0 && c.num_redelivered > 0;
    }, 30_000, "NATS to give the task up");
    assert.equal((await jsm.streams.info(names.tasksStream)).state.messages, 1, "the given-up task is still in the work queue");
    const before = await stack.ctx.topology.jobs.get(`${body.job_id}.c.0`);
    assert.notEqual((before!.json() as { state: string }).state, "failed", "nobody heard the advisory");

    await services.start("api", { name: "api-2" });
    const job = await stack.waitForJob(body.job_id, 30_000);
    assert.equal(job.state, "failed");
    assert.equal(job.files[0]!.error?.code, "BROCAPI_TASK_ABANDONED");
    assert.match(job.files[0]!.error!.message, /abandoned after 2 deliveries/);
    assert.ok(workers.some((w) => job.files[0]!.analysedBy?.pid === w.pid), "the record names a worker that tried");
    assert.equal((await jsm.streams.info(names.tasksStream)).state.messages, 0, "the task left the work queue");
  } finally {
    await services.stopAll();
  }
});
