import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { pcapToPcapng } from "./helpers/pcapng.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// Real Zeek 8.2.2 exits 1 and writes no conn.log for a capture cut mid-packet, losing every
// packet before the cut. The worker trims such a capture to its last whole packet on its way
// into Zeek's stdin: the capture is `done`, with a `salvaged` note and a warning event.

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

test("captures cut mid-packet (pcap and pcapng) are analysed up to the cut and marked done, salvaged; one with no whole packet stays failed", async () => {
  const cutPcap = join(stack.dataDir, "killed-tcpdump.pcap");
  const info = await writeTruncatedPcap(cutPcap, { flows: 40, seed: 21, dnsEvery: 4 });
  const whole = join(stack.dataDir, "whole.pcap");
  await writeSyntheticPcap(whole, { flows: 25, seed: 22 });
  const ng = pcapToPcapng(await readFile(whole));
  const cutNg = join(stack.dataDir, "copy-interrupted.pcapng");
  // Cut inside the last packet block.
  await writeFile(cutNg, ng.bytes.subarray(0, ng.bytes.length - 10));
  const nothing = join(stack.dataDir, "no-whole-packet.pcap");
  const bytes = await readFile(cutPcap);
  await writeFile(nothing, bytes.subarray(0, 24 + 16 + 10));

  const { httpStatus, body } = await submit(stack.url, [cutPcap, cutNg, nothing], "salvage");
  assert.equal(httpStatus, 200);
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "partial");
  const [pcap, pcapng, empty] = job.files;

  assert.equal(pcap!.state, "done");
  assert.equal(pcap!.attempts, 1);
  // Every flow keeps its packets but the very last one: all 40 connections are logged.
  assert.equal(pcap!.lines.conn, 40);
  assert.equal(pcap!.lines.dns, info.dnsTransactions);
  let wholeEnd = 24;
  while (wholeEnd + 16 + bytes.readUInt32LE(wholeEnd + 8) <= bytes.length) wholeEnd += 16 + bytes.readUInt32LE(wholeEnd + 8);
  assert.deepEqual(pcap!.salvaged, { bytesKept: wholeEnd, packetsKept: info.packets, bytesDropped: info.bytes - wholeEnd });
  assert.equal(pcap!.size, info.bytes, "the stored capture is the upload, untrimmed");

  assert.equal(pcapng!.state, "done");
  assert.equal(pcapng!.lines.conn, 25);
  assert.deepEqual(pcapng!.salvaged, { bytesKept: ng.blockEnds.at(-2)!, packetsKept: ng.blockEnds.length - 3, bytesDropped: ng.bytes.length - 10 - ng.blockEnds.at(-2)! });

  assert.equal(empty!.state, "failed");
  assert.equal(empty!.salvaged, undefined);
  assert.equal(empty!.error?.code, "BROCAPI_ZEEK_REJECTED_INPUT");
  assert.match(empty!.zeekStderr!, /^fatal error: failed to read a packet from no-whole-packet\.pcap: truncated dump file/);

  const events = await (await fetch(`${stack.url}/jobs/${body.job_id}/events`)).text();
  const warnings = [...events.matchAll(/^event: file\.warning\n(?:id: \d+\n)?data: (.+)$/gm)].map((m) => JSON.parse(m[1]!) as { fileIndex: number; code: string; message: string });
  // Two workers in parallel: either capture's warning may come first.
  assert.deepEqual(warnings.map((w) => [w.fileIndex, w.code]).sort(), [[0, "BROCAPI_CAPTURE_TRUNCATED"], [1, "BROCAPI_CAPTURE_TRUNCATED"]]);
  assert.match(warnings.find((w) => w.fileIndex === 0)!.message, new RegExp(`^killed-tcpdump\\.pcap was cut off mid-packet: analysed its first ${info.packets} packets \\(\\d+ bytes\\), dropped the last \\d+ bytes$`));
});
