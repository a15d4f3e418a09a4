import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as zlib from "node:zlib";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { pcapToPcapng } from "./helpers/pcapng.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// Capture intake, end to end with the default settings.
//
// Salvage: real Zeek 8.2.2 exits 1 and writes no conn.log for a capture cut mid-packet, losing
// every packet before the cut. The worker trims such a capture to its last whole packet on its
// way into Zeek's stdin: the capture is `done`, with a `salvaged` note and a warning event.
//
// Compressed uploads: analysts keep captures as .pcap.gz. The api inflates them as they arrive
// and stores the capture itself, so a compressed capture's job is the uncompressed one's. The
// default limits (8 GiB a file, inflation ratio 100) still stop a decompression bomb early.

let nats: TestNats;
let stack: Stack;
const zstd = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

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

test("a gzip-compressed capture gives the same job as the capture itself: name, size, SHA-256, lines; the upload's SHA-256 kept beside", async () => {
  const path = join(stack.dataDir, "case.pcap");
  await writeSyntheticPcap(path, { flows: 60, seed: 31, dnsEvery: 3 });
  const plain = await readFile(path);
  const gz = zlib.gzipSync(plain, { level: 6 });
  const { httpStatus, body } = await submit(stack.url, [path, { name: "case.pcap.gz", data: gz }], "gz");
  assert.equal(httpStatus, 200, body.status);
  assert.deepEqual(body.files, ["case.pcap", "case.pcap"]);
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "done");
  const [asIs, inflated] = job.files;
  for (const key of ["name", "size", "sha256", "state", "lines"] as const) assert.deepEqual(inflated![key], asIs![key], key);
  assert.equal(asIs!.lines.conn, 60);
  assert.equal(asIs!.compressed, undefined);
  assert.deepEqual(inflated!.compressed, { encoding: "gzip", size: gz.length, sha256: sha(gz) });
  // What is stored, and downloaded, is the capture itself.
  const down = Buffer.from(await (await fetch(`${stack.url}/jobs/${body.job_id}/pcaps/1`)).arrayBuffer());
  assert.deepEqual(down, plain);
});

test("zstd, where this Node's zlib has it: inflated like gzip; otherwise refused with the reason", async () => {
  const path = join(stack.dataDir, "z.pcap");
  await writeSyntheticPcap(path, { flows: 5, seed: 32 });
  const plain = await readFile(path);
  if (!zstd) {
    // A zstd frame made by hand: magic, then anything; recognised by its magic alone.
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 1)]);
    const { httpStatus, body } = await submit(stack.url, [{ name: "z.pcap.zst", data: frame }]);
    assert.equal(httpStatus, 415);
    assert.match(body.status, /^z\.pcap\.zst is zstd-compressed, which this server's Node v\d+\.\d+\.\d+ cannot decompress; decompress it first$/);
    return;
  }
  const zst = zstd(plain);
  const { httpStatus, body } = await submit(stack.url, [{ name: "z.pcap.zst", data: zst }]);
  assert.equal(httpStatus, 200, body.status);
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "done");
  assert.deepEqual([job.files[0]!.name, job.files[0]!.sha256, job.files[0]!.lines.conn], ["z.pcap", sha(plain), 5]);
  assert.deepEqual(job.files[0]!.compressed, { encoding: "zstd", size: zst.length, sha256: sha(zst) });
});

test("a decompression bomb under the default limits: 413 once it passes 100 times its compressed size, long before 8 GiB; nothing stored", async () => {
  // 256 MiB of zeros behind a pcap header: about 250 KiB compressed.
  const header = (await readFile(join(stack.dataDir, "case.pcap"))).subarray(0, 24);
  const bomb = zlib.gzipSync(Buffer.concat([header, Buffer.alloc(256 * 1024 * 1024)]));
  const before = (await stack.ctx.topology.pcaps.list()).length;
  const { httpStatus, body } = await submit(stack.url, [{ name: "bomb.pcap.gz", data: bomb }]);
  assert.equal(httpStatus, 413);
  assert.equal(body.code, "BROCAPI_UPLOAD_TOO_LARGE");
  assert.match(body.status, /^bomb\.pcap\.gz inflates to more than 100 times its gzip-compressed size/);
  assert.equal((await stack.ctx.topology.pcaps.list()).length, before, "no object stored");
});
