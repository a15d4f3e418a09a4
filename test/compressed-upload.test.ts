import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as zlib from "node:zlib";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// Analysts keep captures as .pcap.gz: the api inflates them as they arrive and stores the
// capture itself, so a compressed capture's job is the uncompressed one's. The default limits
// (8 GiB a file, inflation ratio 100) still stop a decompression bomb early.

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
