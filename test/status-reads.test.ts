import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { statusReads } from "./helpers/big-job.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

/** Consumers the server holds on every stream of the account: what a read could leave behind. */
async function consumers(): Promise<number> {
  return (await stack.ctx.topology.jsm.getAccountInfo()).consumers;
}

test("10,000 status reads (and listings, log lists, captures pages) leave no consumer behind", async () => {
  const pcap = join(stack.dataDir, "s.pcap");
  await writeSyntheticPcap(pcap, { flows: 20, seed: 77 });
  const { body } = await submit(stack.url, [pcap, pcap], "reads");
  await stack.waitForJob(body.job_id);
  const before = await consumers();
  const paths = [`/jobs/${body.job_id}`, `/jobs/${body.job_id}/captures?state=done`, "/jobs?limit=5", `/jobs/${body.job_id}/logs`, `/jobs/${body.job_id}/logs/conn`, `/jobs/${body.job_id}/events`];
  for (const path of paths) assert.equal((await fetch(`${stack.url}${path}`)).status, 200, path);
  // 10,000 reads of the status, 50 at a time over kept-alive connections (fetch's client alone took most of the test's time).
  const reads = await statusReads(`${stack.url}/jobs/${body.job_id}`, 10_000, 50);
  assert.equal(reads.failed, 0, "every read answered 200");
  assert.equal(await consumers(), before, "the reads created no consumer");
});
