import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// A running capture's task is heartbeated a third of the ack wait apart (docs/RELIABILITY.md), so
// NATS never hands it to another worker while its worker lives, however short the ack wait. A
// heartbeat every second whatever the ack wait lost that race at 1 s (the suite's short ack
// wait): the task went out again mid-run and its capture ran twice at once.

let nats: TestNats;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_ACK_WAIT_MS: "1000", BROCAPI_MAX_DELIVER: "5" } });
});

after(async () => {
  delete process.env.ZEEK_DOUBLE_DELAY_MS;
  await stack?.stop();
  await nats?.cleanup();
});

test("a capture analysed for three ack waits is delivered once and started once: its worker's heartbeats keep it", async () => {
  // Zeek (the double) holds its final writes for 3 s: three ack waits of 1 s.
  process.env.ZEEK_DOUBLE_DELAY_MS = "3000";
  const pcap = join(stack.dataDir, "long.pcap");
  await writeSyntheticPcap(pcap, { flows: 5, seed: 61 });
  const { body } = await submit(stack.url, [pcap], "heartbeat");
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "done");
  assert.equal(job.files[0]!.attempts, 1, "started once: not handed out again while it ran");
  const { jsm, names } = stack.ctx.topology;
  const consumer = await jsm.consumers.info(names.tasksStream, names.workerConsumer);
  assert.deepEqual([consumer.delivered.consumer_seq, consumer.num_redelivered], [1, 0], "delivered once");
});
