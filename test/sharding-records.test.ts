import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startWorker } from "../services/worker/worker.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";

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
