import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  // Salvage off (BROCAPI_SALVAGE_TRUNCATED=false): Zeek gets the cut capture as it is, as before salvage existed.
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_LOG_FORMAT: "json", BROCAPI_SALVAGE_TRUNCATED: "false" } });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

test("a capture Zeek rejects fails once with Zeek's stderr; the other capture of the job is done: partial", async () => {
  const good = join(stack.dataDir, "good.pcap");
  const whole = join(stack.dataDir, "whole.pcap");
  const cut = join(stack.dataDir, "cut.pcap");
  await writeSyntheticPcap(good, { flows: 20, seed: 4 });
  await writeSyntheticPcap(whole, { flows: 20, seed: 5 });
  // A valid header and packets, cut in the middle of a packet: Zeek exits 1 and writes no conn.log.
  const bytes = await readFile(whole);
  await writeFile(cut, bytes.subarray(0, bytes.length - 7));

  const { httpStatus, body } = await submit(stack.url, [good, cut], "mixed");
  assert.equal(httpStatus, 200);
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "partial");
  const [ok, bad] = job.files;
  assert.equal(ok!.state, "done");
  assert.equal(ok!.lines.conn, 20);
  assert.equal(bad!.state, "failed");
  assert.equal(bad!.attempts, 1, "a permanent failure is not retried");
  assert.equal(bad!.zeekExitCode, 1);
  assert.equal(bad!.error?.code, "BROCAPI_ZEEK_REJECTED_INPUT");
  // Zeek read it from stdin: its message names the capture, never a path of the worker's.
  assert.match(bad!.zeekStderr!, /fatal error in <params>, line 1: failed to read a packet from cut\.pcap: truncated dump file/);
  assert.match(bad!.error!.message, /failed to read a packet from cut\.pcap/);
  assert.doesNotMatch(JSON.stringify(bad), /\/work\/|data\/work|input\.pcap/);
  assert.deepEqual(bad!.lines, {});
  const info = await stack.ctx.topology.jsm.streams.info(stack.ctx.topology.names.tasksStream);
  assert.equal(info.state.messages, 0, "both tasks left the work queue (acked / terminated)");
});
