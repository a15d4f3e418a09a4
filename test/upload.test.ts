import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;
let pcap: Uint8Array;

before(async () => {
  nats = await startTestNats();
  // No worker: these tests are about what the api stores, and a stored capture must stay put.
  stack = await startStack({ natsUrl: nats.url, services: ["api"] });
  const path = join(stack.dataDir, "good.pcap");
  await writeSyntheticPcap(path, { flows: 5, seed: 3 });
  pcap = await readFile(path);
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

async function storedNothing(): Promise<void> {
  const objects = (await stack.ctx.topology.pcaps.list()).filter((o) => !o.deleted);
  assert.deepEqual(objects.map((o) => o.name), [], "no capture left in the object store");
  const keys: string[] = [];
  for await (const k of await stack.ctx.topology.jobs.keys()) keys.push(k);
  assert.deepEqual(keys, [], "no job record left");
}

function assertSeedFailure(body: Record<string, unknown>, pattern: RegExp): void {
  assert.equal(body.success, false);
  assert.match(String(body.status), pattern);
  for (const key of ["status", "files", "tag", "job_id", "success"]) assert.ok(key in body, `key ${key}`);
}

test("no file part: 400, the seed's shape, nothing stored", async () => {
  const form = new FormData();
  form.append("tag", "x");
  const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
  assert.equal(res.status, 400);
  const body = (await res.json()) as Record<string, unknown>;
  assertSeedFailure(body, /no pcaps supplied/);
  assert.equal(body.tag, "x");
  await storedNothing();
});

test("files under other field names only: 400, nothing stored", async () => {
  const { httpStatus, body } = await submit(stack.url, [{ name: "a.pcap", data: pcap }], undefined, "upload");
  assert.equal(httpStatus, 400);
  assertSeedFailure(body as unknown as Record<string, unknown>, /no pcaps supplied/);
  await storedNothing();
});

test("a text file named .pcap: 415 naming the file, nothing stored", async () => {
  const { httpStatus, body } = await submit(stack.url, [{ name: "notes.pcap", data: Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n") }]);
  assert.equal(httpStatus, 415);
  assertSeedFailure(body as unknown as Record<string, unknown>, /notes\.pcap is not a pcap or pcapng capture/);
  await storedNothing();
});

test("a zero-byte file, and a gzip-compressed one that holds no capture, are refused with the reason", async () => {
  const empty = await submit(stack.url, [{ name: "empty.pcap", data: new Uint8Array() }]);
  assert.equal(empty.httpStatus, 415);
  assert.match(empty.body.status, /empty\.pcap is empty/);
  // gzip is inflated on the way in (test/bad-input.test.ts); what it holds must be a capture.
  const gz = await submit(stack.url, [{ name: "c.pcap.gz", data: gzipSync(Buffer.from("not packets\n".repeat(50))) }]);
  assert.equal(gz.httpStatus, 415);
  assert.match(gz.body.status, /^c\.pcap\.gz is not a pcap or pcapng capture/);
  await storedNothing();
});

test("a good capture then a bad one: 415, and the good one is removed too", async () => {
  const { httpStatus, body } = await submit(stack.url, [
    { name: "good.pcap", data: pcap },
    { name: "bad.pcap", data: Buffer.from("not a capture at all") },
  ]);
  assert.equal(httpStatus, 415);
  assert.deepEqual(body.files, ["good.pcap"]);
  await storedNothing();
});

test("not multipart: 415 in the seed's shape", async () => {
  for (const [type, payload] of [
    ["application/json", JSON.stringify({ file: "x" })],
    ["application/octet-stream", "raw bytes"],
    ["text/plain", "hello"],
  ] as const) {
    const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", headers: { "content-type": type }, body: payload });
    assert.equal(res.status, 415, type);
    assertSeedFailure((await res.json()) as Record<string, unknown>, /not multipart\/form-data/);
  }
  await storedNothing();
});

test("a good submission is stored with its SHA-256 and one task per file; names reduced to base names", async () => {
  const { httpStatus, body } = await submit(stack.url, [{ name: "../../etc/x.pcap", data: pcap }, { name: "x.pcap", data: pcap }], "t");
  assert.equal(httpStatus, 200);
  assert.deepEqual(body.files, ["x.pcap", "x.pcap"]);
  const job = (await (await fetch(`${stack.url}/jobs/${body.job_id}`)).json()) as { state: string; files: { sha256: string; size: number; object: string }[] };
  assert.equal(job.state, "queued");
  const { createHash } = await import("node:crypto");
  const sha = createHash("sha256").update(pcap).digest("hex");
  assert.deepEqual(
    job.files.map((f) => [f.sha256, f.size]),
    [
      [sha, pcap.length],
      [sha, pcap.length],
    ],
  );
  // Two files of one name are two objects: nothing overwrites anything (a seed bug).
  assert.equal(new Set(job.files.map((f) => f.object)).size, 2);
  const stored = await stack.ctx.topology.pcaps.getBlob(job.files[1]!.object);
  assert.deepEqual(Buffer.from(stored!), Buffer.from(pcap));
  const info = await stack.ctx.topology.jsm.streams.info(stack.ctx.topology.names.tasksStream);
  assert.equal(info.state.messages, 2);
});

test("GET /healthz answers 200; an unknown job is a 404", async () => {
  const health = await fetch(`${stack.url}/healthz`);
  assert.equal(health.status, 200);
  const missing = await fetch(`${stack.url}/jobs/00000000-0000-4000-8000-000000000000`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { success: boolean }).success, false);
});
