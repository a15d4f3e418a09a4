import assert from "node:assert/strict";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "../helpers/nats.js";
import { writeSyntheticPcap } from "../helpers/pcap-writer.js";
import { ServiceProcesses } from "../helpers/processes.js";
import { startStack, ZEEK_DOUBLE, type Stack } from "../helpers/stack.js";
import { submit } from "../helpers/submit.js";

let nats: TestNats;
let stack: Stack;
const PREFIX = "abandoned";
const LIMITS = { BROCAPI_NATS_PREFIX: PREFIX, BROCAPI_MAX_DELIVER: "2", BROCAPI_ACK_WAIT_MS: "1000" };

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, services: ["api"], env: LIMITS });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

test("a task whose worker dies on every delivery: the capture is marked failed (BROCAPI_TASK_ABANDONED) and leaves the work queue", async () => {
  // A "Zeek" that answers --version, then kills the worker running it: as an OOM kill would.
  const killer = join(stack.dataDir, "zeek-that-kills");
  await writeFile(killer, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "zeek version 8.2.2"; exit 0; fi\nkill -9 "$PPID"\nsleep 5\n');
  await chmod(killer, 0o755);
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: stack.dataDir, ZEEK_BIN: killer, ...LIMITS });
  try {
    const workers = [await services.start("worker", { name: "worker-1" }), await services.start("worker", { name: "worker-2" })];
    const pcap = join(stack.dataDir, "a.pcap");
    await writeSyntheticPcap(pcap, { flows: 5, seed: 41 });
    const { body } = await submit(stack.url, [pcap], "doomed");
    // Each allowed delivery goes to a worker that dies with it.
    const ends = await Promise.all(workers.map((w) => w.exited));
    assert.ok(ends.every((e) => e.signal === "SIGKILL"), JSON.stringify(ends));
    // NATS notices a task is out of deliveries when a worker next asks for work: a healthy one.
    await services.start("worker", { name: "worker-3", env: { ZEEK_BIN: ZEEK_DOUBLE } });
    const job = await stack.waitForJob(body.job_id, 30_000);
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
