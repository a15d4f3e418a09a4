// Every bad upload gets the right status, the seed's JSON shape and a sentence a person can act
// on; nothing of it stays in NATS (no object, no chunk, no job record, no task, no event); and
// the api goes on serving. Real HTTP against an api with small limits.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request, type IncomingMessage } from "node:http";
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { JobStore } from "../shared/jobs/job-store.js";
import { taskSchema } from "../shared/messages/task.js";
import { readSubject } from "../shared/nats/read-subject.js";
import { syslogHostname } from "../shared/syslog/message.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { startTestRsyslog } from "./helpers/rsyslog.js";
import { memoryMb } from "./helpers/big-capture.js";
import { formEnd, multipartBody, partHead, RawConnection, submitHead, type RawPart } from "./helpers/raw-http.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { TRACES } from "./helpers/recordings.js";
import { submit, type SubmitResponse } from "./helpers/submit.js";
import { writeTokensFile } from "./helpers/tokens.js";

const MiB = 1024 * 1024;
/** A case that hangs (the api never answers, or never lets go of a connection) fails on its own. */
const ANSWERS_IN = { timeout: 30_000 };
const LIMITS = {
  BROCAPI_MAX_FILE_BYTES: String(MiB),
  BROCAPI_MAX_FILES: "3",
  BROCAPI_MAX_TOTAL_BYTES: String(1.5 * MiB),
  // Long enough for every case here but the slow upload, which has an api of its own.
  BROCAPI_UPLOAD_TIMEOUT_MS: "30000",
};
const BOUNDARY = "brocapi-test-boundary";
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const API_MAIN = fileURLToPath(new URL("../services/api/main.js", import.meta.url));
/** A little-endian Ethernet capture: `pcapng()` and `bigCapture()` borrow its header and first packet. */
const GOOD_PCAP = `${TRACES}http-get.pcap`;

let nats: TestNats;
let stack: Stack;
/** An api with a 1 s upload time limit, for clients too slow for it. */
let slow: Stack;
/** An api with API tokens, for requests without a usable one. */
let guarded: Stack;
let tokensDir: string;
let tokensFile: string;
let tokens: Record<string, string>;
let pcap: Buffer;
/**
 * Job ids a test meant to be accepted, and leftovers a check already reported: anything else
 * found in NATS is a new leftover (so one leak fails one test, not every test after it).
 */
const known = new Set<string>();

before(async () => {
  [nats, pcap, tokensDir] = await Promise.all([startTestNats(), readFile(GOOD_PCAP), mkdtemp(join(tmpdir(), "brocapi-tokens-"))]);
  ({ path: tokensFile, tokens } = await writeTokensFile(tokensDir, [
    { name: "uploader", roles: ["submit"] },
    { name: "reader", roles: ["read"] },
    { name: "case-uploader", roles: ["submit"], tags: ["case-*"] },
    { name: "revoked", roles: ["submit"] },
  ]));
  // Only the api: what matters is what it stores, and a stored capture must stay put.
  [stack, slow, guarded] = await Promise.all([
    startStack({ natsUrl: nats.url, services: ["api"], env: LIMITS }),
    startStack({ natsUrl: nats.url, services: ["api"], env: { ...LIMITS, BROCAPI_UPLOAD_TIMEOUT_MS: "1000" } }),
    startStack({ natsUrl: nats.url, services: ["api"], env: { ...LIMITS, BROCAPI_AUTH_TOKENS_FILE: tokensFile } }),
  ]);
});

after(async () => {
  await guarded?.stop();
  await rm(tokensDir, { recursive: true, force: true });
  await slow?.stop();
  await stack?.stop();
  await nats?.cleanup();
});

/** A capture of `bytes` bytes: a real pcap file header, then filler the api never reads. */
function bigCapture(bytes: number): Buffer {
  const out = Buffer.alloc(bytes, 0x5a);
  pcap.copy(out, 0, 0, 24);
  return out;
}

/** pcapng: a section header, an Ethernet interface, and the fixture's first packet. */
function pcapng(): Buffer {
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0);
  shb.writeUInt32LE(28, 4);
  shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12);
  shb.writeBigInt64LE(-1n, 16);
  shb.writeUInt32LE(28, 24);
  const idb = Buffer.alloc(20);
  idb.writeUInt32LE(1, 0);
  idb.writeUInt32LE(20, 4);
  idb.writeUInt16LE(1, 8);
  idb.writeUInt32LE(65535, 12);
  idb.writeUInt32LE(20, 16);
  const captured = pcap.readUInt32LE(24 + 8);
  const frame = pcap.subarray(24 + 16, 24 + 16 + captured);
  const padded = Math.ceil(captured / 4) * 4;
  const epb = Buffer.alloc(32 + padded);
  epb.writeUInt32LE(6, 0);
  epb.writeUInt32LE(epb.length, 4);
  epb.writeUInt32LE(captured, 20);
  epb.writeUInt32LE(captured, 24);
  frame.copy(epb, 28);
  epb.writeUInt32LE(epb.length, epb.length - 4);
  return Buffer.concat([shb, idb, epb]);
}

/** Posts a hand-made multipart body (bytes fetch's FormData would escape or normalise). */
async function postForm(parts: RawPart[]): Promise<{ httpStatus: number; body: SubmitResponse }> {
  return json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", headers: { "content-type": FORM_TYPE }, body: multipartBody(BOUNDARY, parts) }));
}

/** What NATS holds that no test accepted and no check reported yet: objects, chunks, job records, tasks, events. */
async function leftovers(s: Stack = stack): Promise<(readonly [string, string[]])[]> {
  const { pcaps, jobs, jsm, names } = s.ctx.topology;
  const live = (await pcaps.list()).filter((o) => !o.deleted);
  const chunkPrefix = `$O.${names.pcapsBucket}.C.`;
  const owned = new Set(live.map((o) => `${chunkPrefix}${o.nuid}`));
  const chunks = await jsm.streams.info(`OBJ_${names.pcapsBucket}`, { subjects_filter: `${chunkPrefix}>` });
  const keys: string[] = [];
  for await (const k of await jobs.keys()) keys.push(k);
  const [tasks, events] = await Promise.all(
    [
      [names.tasksStream, names.tasksFilter],
      [names.eventsStream, names.eventsFilter],
    ].map(([stream, filter]) => jsm.streams.info(stream!, { subjects_filter: filter! })),
  );
  // Job ids, taken from object names (`<job>/<n>`), keys and subjects (`<prefix>.tasks.<job>`).
  const jobOf = (name: string): string => name.split(/[/.]/).at(name.includes("/") ? 0 : -1)!;
  const found = {
    "capture left in the object store": live.map((o) => jobOf(o.name)),
    "chunks of an unfinished upload": Object.keys(chunks.state.subjects ?? {}).filter((c) => !owned.has(c)),
    // A job's keys are its id and `<id>.c.<n>` / `<id>.s.<k>` (per capture, per shard).
    "job record left": keys.map((k) => k.split(".")[0]!),
    "task left": Object.keys(tasks!.state.subjects ?? {}).map(jobOf),
    "event left": Object.keys(events!.state.subjects ?? {}).map(jobOf),
  };
  return Object.entries(found).map(([what, ids]) => [what, ids.filter((id) => !known.has(id))] as const);
}

/** Nothing of a refused or broken upload is left. */
async function storedNothing(s: Stack = stack): Promise<void> {
  const fresh = await leftovers(s);
  for (const [, ids] of fresh) for (const id of ids) known.add(id);
  for (const [what, ids] of fresh) assert.deepEqual(ids, [], `no ${what}`);
}

/** Afterwards the api is healthy and takes a good submission. */
async function stillServes(s: Stack = stack, headers: Record<string, string> = {}): Promise<void> {
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200, "healthz");
  const good = await submit(s.url, [{ name: "good.pcap", data: pcap }], undefined, "file[]", headers);
  assert.equal(good.httpStatus, 200, good.body.status);
  known.add(good.body.job_id);
}

/** The seed's shape with `success: false`, the status code and the sentence; then nothing stored and still serving. */
async function assertRefused(res: { httpStatus: number; body: SubmitResponse }, httpStatus: number, status: RegExp, s: Stack = stack, headers: Record<string, string> = {}): Promise<void> {
  assert.equal(res.httpStatus, httpStatus, res.body.status);
  for (const key of ["status", "files", "tag", "job_id", "success", "code"]) assert.ok(key in res.body, `key ${key}`);
  assert.equal(res.body.success, false);
  assert.match(res.body.status, status);
  assert.match(String(res.body.code), /^BROCAPI_/);
  await storedNothing(s);
  await stillServes(s, headers);
}

/** Asserts a submission was accepted; returns its job record as `GET /jobs/:id` shows it. */
async function assertAccepted(res: { httpStatus: number; body: SubmitResponse }): Promise<{ tag: string | null; files: { name: string; object: string; sha256: string; size: number }[] }> {
  assert.equal(res.httpStatus, 200, res.body.status);
  assert.equal(res.body.success, true);
  known.add(res.body.job_id);
  const job = await fetch(`${stack.url}/jobs/${res.body.job_id}`);
  assert.equal(job.status, 200);
  return (await job.json()) as Awaited<ReturnType<typeof assertAccepted>>;
}

async function json(res: Response): Promise<{ httpStatus: number; body: SubmitResponse }> {
  return { httpStatus: res.status, body: (await res.json()) as SubmitResponse };
}

// --- job options ---

test("profile= naming no configured profile, after a capture was stored: 400 naming the offered ones, nothing stored", ANSWERS_IN, async () => {
  const form = new FormData();
  form.append("file[]", new Blob([pcap]), "a.pcap");
  form.append("profile", "../../etc/evil");
  const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form }));
  assert.equal(res.body.code, "BROCAPI_UPLOAD_UNKNOWN_PROFILE");
  await assertRefused(res, 400, /^unknown analysis profile "\.\.\/\.\.\/etc\/evil": this server offers default, minimal, full$/);
});

test("merge=true with captures of different link types (Ethernet pcap, raw-IP pcapng): 400 naming both, nothing stored", ANSWERS_IN, async () => {
  const raw = pcapng();
  raw.writeUInt16LE(101, 28 + 8); // the interface description's link type: raw IP
  const form = new FormData();
  form.append("merge", "true");
  form.append("file[]", new Blob([pcap]), "eth.pcap");
  form.append("file[]", new Blob([raw]), "raw.pcapng");
  const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form }));
  assert.equal(res.body.code, "BROCAPI_UPLOAD_MIXED_LINK_TYPES");
  await assertRefused(res, 400, /^merge=true needs captures of one link type, as one recording has: eth\.pcap is link type 1 \(Ethernet\), raw\.pcapng is 101 \(raw IP\)$/);
});

test("merge= other than true/false: 400, nothing stored", ANSWERS_IN, async () => {
  const form = new FormData();
  form.append("file[]", new Blob([pcap]), "a.pcap");
  form.append("merge", "maybe");
  const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form }));
  assert.equal(res.body.code, "BROCAPI_UPLOAD_BAD_FIELD");
  await assertRefused(res, 400, /^merge must be true or false, not "maybe"$/);
});

test("merge=true with shards (a number, or auto judged on the recording's total size) is accepted: capture 0 holds the shards, one task per shard named by it; shards=1 and auto under the threshold: one task", ANSWERS_IN, async () => {
  const { jsm, names } = stack.ctx.topology;
  const jobs = new JobStore(stack.ctx.topology);
  for (const [shards, count] of [["4", 4], ["1", 1], ["auto", 1]] as const) {
    const form = new FormData();
    form.append("merge", "true");
    form.append("shards", shards);
    form.append("file[]", new Blob([pcap]), "a.pcap0");
    form.append("file[]", new Blob([pcap]), "a.pcap1");
    const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form }));
    await assertAccepted(res);
    const id = res.body.job_id;
    const header = await jobs.header(id);
    assert.deepEqual([header?.merge, header?.analysisShards], [true, shards === "auto" ? "auto" : count], shards);
    const [first, second] = await jobs.captures(id, [0, 1]);
    assert.deepEqual([first?.shards, second?.shards], [count > 1 ? { count, states: "q".repeat(count) } : undefined, undefined], `${shards}: only capture 0, the recording, is sharded`);
    const queued = [];
    for await (const m of readSubject(jsm, names.tasksStream, names.tasksSubject(id))) queued.push({ id: m.header.get("Nats-Msg-Id"), task: taskSchema.parse(m.json()) });
    const expected = count > 1 ? [...Array(count).keys()].map((k) => ({ id: `task:${id}:0:${k}/${count}`, shard: { index: k, count } })) : [{ id: `task:${id}:0`, shard: undefined }];
    assert.deepEqual(queued.map((q) => ({ id: q.id, shard: q.task.shard })), expected, `${shards}: the recording's tasks`);
    assert.ok(queued.every((q) => q.task.merge === true && q.task.fileIndex === 0 && q.task.files === 2), `${shards}: each task reads the whole recording`);
  }
});

// --- files that are not captures ---

test("a zero-byte file: 415 'is empty', nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "empty.pcap", data: new Uint8Array() }]), 415, /^empty\.pcap is empty$/);
});

test("a text file named .pcap: 415 'is not a pcap or pcapng capture', nothing stored", ANSWERS_IN, async () => {
  const res = await submit(stack.url, [{ name: "notes.pcap", data: Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n") }]);
  await assertRefused(res, 415, /^notes\.pcap is not a pcap or pcapng capture/);
});

test("fewer than 4 bytes: 415 'too short to be a capture', nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "three.pcap", data: pcap.subarray(0, 3) }]), 415, /^three\.pcap is too short to be a capture \(3 bytes\)$/);
});

test("a pcap magic with a cut-off file header: 415 'cut off inside its pcap file header', nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "head.pcap", data: pcap.subarray(0, 10) }]), 415, /^head\.pcap is cut off inside its pcap file header \(10 of 24 bytes\)$/);
});

test("a pcapng magic with a cut-off section header: 415 'cut off inside its pcapng section header', nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "head.pcapng", data: pcapng().subarray(0, 20) }]), 415, /^head\.pcapng is cut off inside its pcapng section header \(20 of 28 bytes\)$/);
});

test("a pcap cut mid-packet is accepted (200): whether it is readable is Zeek's call", ANSWERS_IN, async () => {
  const cut = pcap.subarray(0, pcap.length - 30);
  const job = await assertAccepted(await submit(stack.url, [{ name: "cut.pcap", data: cut }]));
  assert.equal(job.files[0]!.size, cut.length);
});

test("a pcapng capture is accepted (200) and stored byte for byte", ANSWERS_IN, async () => {
  const data = pcapng();
  const job = await assertAccepted(await submit(stack.url, [{ name: "one.pcapng", data }]));
  assert.deepEqual(Buffer.from((await stack.ctx.topology.pcaps.getBlob(job.files[0]!.object))!), data);
});

// --- compressed uploads: inflated on the way in, every limit on the inflated bytes ---

test("a gzip-compressed pcap is accepted (200) and stored inflated, named without .gz, with both SHA-256s", ANSWERS_IN, async () => {
  const gz = gzipSync(pcap);
  const job = (await assertAccepted(await submit(stack.url, [{ name: "c.pcap.gz", data: gz }]))) as Awaited<ReturnType<typeof assertAccepted>> & { files: { compressed?: unknown }[] };
  const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
  assert.deepEqual(
    { name: job.files[0]!.name, size: job.files[0]!.size, sha256: job.files[0]!.sha256, compressed: job.files[0]!.compressed },
    { name: "c.pcap", size: pcap.length, sha256: sha(pcap), compressed: { encoding: "gzip", size: gz.length, sha256: sha(gz) } },
  );
  assert.deepEqual(Buffer.from((await stack.ctx.topology.pcaps.getBlob(job.files[0]!.object))!), pcap);
});

test("a gzip bomb (inflates over 100 times its size): 413, nothing stored", ANSWERS_IN, async () => {
  // 5 MiB of zeros after a capture header: ~5 KiB compressed, inflating about 1,000 times.
  const bomb = gzipSync(Buffer.concat([pcap.subarray(0, 24), Buffer.alloc(5 * MiB)]));
  await assertRefused(await submit(stack.url, [{ name: "bomb.pcap.gz", data: bomb }]), 413, /^bomb\.pcap\.gz inflates to more than 100 times its gzip-compressed size \(a decompression bomb\?\); nothing was kept$/);
});

test("a gzip capture that inflates past the per-file limit: 413, nothing stored", ANSWERS_IN, async () => {
  // 1.2 MiB of varied packets compress only a few times: under the ratio, over the 1 MiB limit.
  const body = Buffer.alloc(1.2 * MiB);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 251 ^ (i >> 9);
  const big = gzipSync(Buffer.concat([pcap.subarray(0, 24), body]));
  assert.ok(big.length < MiB && big.length * 100 > body.length, `compressed ${big.length} bytes`);
  await assertRefused(await submit(stack.url, [{ name: "big.pcap.gz", data: big }]), 413, /^big\.pcap\.gz inflates to more than the limit of 1048576 bytes per file \(gzip-compressed\)$/);
});

test("a damaged gzip: 415 'its data is damaged'; a gzip cut short: 400 'cut short'; nothing stored either way", ANSWERS_IN, async () => {
  const gz = gzipSync(Buffer.concat([pcap, pcap]));
  const damaged = Buffer.from(gz);
  // Past the 10-byte gzip header: the deflate data itself.
  for (let i = 12; i < 40; i++) damaged[i] = 0xff;
  const res = await submit(stack.url, [{ name: "damaged.pcap.gz", data: damaged }]);
  await assertRefused(res, 415, /^damaged\.pcap\.gz is gzip-compressed but its data is damaged \(.+\); nothing was kept$/);
  assert.equal(res.body.code, "BROCAPI_UPLOAD_BAD_COMPRESSION");
  const cut = await submit(stack.url, [{ name: "cut.pcap.gz", data: gz.subarray(0, gz.length - 100) }]);
  await assertRefused(cut, 400, /^cut\.pcap\.gz is gzip-compressed but cut short \(unexpected end of file\); nothing was kept$/);
  assert.equal(cut.body.code, "BROCAPI_UPLOAD_BAD_COMPRESSION");
});

test("gzip around something that is not a capture: 415 naming the file, nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "notes.txt.gz", data: gzipSync(Buffer.from("just some notes\n".repeat(100))) }]), 415, /^notes\.txt\.gz is not a pcap or pcapng capture \(unknown file format\)$/);
});

// --- limits ---

test("a file over the size limit: 413, the rest of the body drained, the connection reused, nothing stored", ANSWERS_IN, async () => {
  const body = multipartBody(BOUNDARY, [
    { name: "file[]", filename: "huge.pcap", data: bigCapture(3 * MiB) },
    { name: "tag", data: "after the big file" },
  ]);
  const conn = await RawConnection.open(stack.url);
  try {
    const answer = conn.response();
    assert.ok(await conn.write(submitHead(stack.url, FORM_TYPE, body.length)));
    assert.ok(await conn.write(body), "the connection stays open while the rest is sent");
    const res = await answer;
    assert.ok(res, "answered before the connection closed");
    await assertRefused({ httpStatus: res.status, body: JSON.parse(res.body) as SubmitResponse }, 413, /^huge\.pcap is larger than the limit of 1048576 bytes per file$/);
    await conn.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(stack.url).host}\r\n\r\n`);
    assert.equal((await conn.response())?.status, 200, "the same connection serves the next request");
  } finally {
    conn.destroy();
  }
});

test("more files than the limit: 413 'more than 3 files', nothing stored", ANSWERS_IN, async () => {
  const files = ["a", "b", "c", "d"].map((n) => ({ name: `${n}.pcap`, data: pcap }));
  await assertRefused(await submit(stack.url, files), 413, /^more than 3 files in one submission$/);
});

test("files over the total limit together: 413 'in total', nothing stored", ANSWERS_IN, async () => {
  const files = [1, 2].map((n) => ({ name: `part${n}.pcap`, data: bigCapture(0.9 * MiB) }));
  await assertRefused(await submit(stack.url, files), 413, /^the files of one submission are larger than the limit of 1572864 bytes in total \(reached in part2\.pcap\)$/);
});

test("a tag over 64 KiB: 413, nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "a.pcap", data: pcap }], "t".repeat(70_000)), 413, /^the tag is longer than the limit of 65536 bytes$/);
});

// --- malformed forms ---

test("no file part: 400 'no pcaps supplied', the tag echoed, nothing stored", ANSWERS_IN, async () => {
  const form = new FormData();
  form.append("tag", "x");
  const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form }));
  assert.equal(res.body.tag, "x");
  await assertRefused(res, 400, /^no pcaps supplied: send captures as file\[\] parts$/);
});

test("an empty file[] (no file name, no bytes): 400 'no file chosen', nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await postForm([{ name: "file[]", filename: "", data: "" }]), 400, /^no pcaps supplied: .*file\[\] part had neither a file name nor bytes \(no file chosen\)$/);
});

test("files under other field names only: 400 naming the ignored field, nothing stored", ANSWERS_IN, async () => {
  await assertRefused(await submit(stack.url, [{ name: "a.pcap", data: pcap }], undefined, "upload"), 400, /^no pcaps supplied: .*"upload" was ignored/);
});

test("not multipart: 415 'not multipart/form-data', nothing stored", ANSWERS_IN, async () => {
  for (const [type, payload] of [
    ["application/json", JSON.stringify({ file: "x" })],
    ["application/octet-stream", pcap],
    ["text/plain", "hello"],
    ["application/x-www-form-urlencoded", "file%5B%5D=x"],
  ] as const) {
    const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", headers: { "content-type": type }, body: payload }));
    await assertRefused(res, 415, /^request is not multipart\/form-data/);
  }
});

test("a multipart body with a broken boundary: 400 'malformed multipart body', nothing stored", ANSWERS_IN, async () => {
  const good = multipartBody(BOUNDARY, [{ name: "file[]", filename: "a.pcap", data: pcap }]);
  const cutAt = (end: number): Buffer => good.subarray(0, good.length - end);
  for (const [contentType, body, status] of [
    ["multipart/form-data", good, /^malformed multipart body: Multipart: Boundary not found$/],
    [`multipart/form-data; boundary=${BOUNDARY}-other`, good, /^malformed multipart body: no closing boundary --brocapi-test-boundary-other--/],
    // The body stops after a complete part, before the close delimiter's last dashes.
    [FORM_TYPE, cutAt(4), /^malformed multipart body: no closing boundary --brocapi-test-boundary--/],
    // The body stops inside the file.
    [FORM_TYPE, cutAt(100), /^the request ended before the upload was complete/],
  ] as const) {
    const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", headers: { "content-type": contentType }, body }));
    await assertRefused(res, 400, status);
  }
});

test("a part the parser drops (no Content-Disposition): 400 'could not be read', the other files not kept", ANSWERS_IN, async () => {
  const body = Buffer.concat([
    multipartBody(BOUNDARY, [{ name: "file[]", filename: "a.pcap", data: pcap }], false),
    Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/octet-stream\r\n\r\n`),
    pcap,
    Buffer.from("\r\n"),
    formEnd(BOUNDARY),
  ]);
  const res = await json(await fetch(`${stack.url}/submit/pcap`, { method: "POST", headers: { "content-type": FORM_TYPE }, body }));
  await assertRefused(res, 400, /^malformed multipart body: 1 of its 2 parts could not be read/);
});

test("a client that drops the connection mid-file: nothing kept, not even the chunks already stored", ANSWERS_IN, async () => {
  const { jsm, names } = stack.ctx.topology;
  const chunkSubjects = async (): Promise<number> => {
    const info = await jsm.streams.info(`OBJ_${names.pcapsBucket}`, { subjects_filter: `$O.${names.pcapsBucket}.C.>` });
    return Object.keys(info.state.subjects ?? {}).length;
  };
  const before = await chunkSubjects();
  const file = bigCapture(MiB);
  const conn = await RawConnection.open(stack.url);
  const head = partHead(BOUNDARY, { name: "file[]", filename: "dropped.pcap" });
  await conn.write(submitHead(stack.url, FORM_TYPE, head.length + file.length + 2 + formEnd(BOUNDARY).length));
  await conn.write(head);
  await conn.write(file.subarray(0, 0.8 * MiB));
  // The object store's first 512 KiB chunk is in NATS: there is a partial upload to clean up.
  await eventually(async () => (await chunkSubjects()) > before, 10_000, "a first chunk stored");
  conn.destroy();
  await eventually(async () => (await leftovers()).every(([, ids]) => ids.length === 0), 10_000, "the partial upload removed");
  await stillServes();
});

test("an upload slower than the time limit: 408 in the seed's shape, the connection closed, nothing stored", ANSWERS_IN, async () => {
  const file = bigCapture(64 * 1024);
  const head = partHead(BOUNDARY, { name: "file[]", filename: "slow.pcap" });
  const length = head.length + file.length + 2 + formEnd(BOUNDARY).length;
  // Mid-file, still sending a little at a time; and stalled before the first part.
  for (const trickle of [true, false]) {
    const conn = await RawConnection.open(slow.url);
    try {
      const answer = conn.response();
      await conn.write(submitHead(slow.url, FORM_TYPE, length));
      if (trickle) {
        await conn.write(head);
        for (let sent = 0; !conn.ended && sent < file.length; sent += 100) {
          await conn.write(file.subarray(sent, sent + 100));
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const res = await answer;
      assert.ok(res, "answered before the connection closed");
      assert.equal(res.headers.connection, "close");
      await conn.closed();
      await assertRefused({ httpStatus: res.status, body: JSON.parse(res.body) as SubmitResponse }, 408, /^the upload took longer than the limit of 1000 ms; nothing was kept$/, slow);
    } finally {
      conn.destroy();
    }
  }
});

test("a refused upload whose client stops sending: answered at once, the connection dropped at the time limit", ANSWERS_IN, async () => {
  const head = partHead(BOUNDARY, { name: "file[]", filename: "notes.pcap" });
  const conn = await RawConnection.open(slow.url);
  try {
    await conn.write(submitHead(slow.url, FORM_TYPE, head.length + MiB));
    await conn.write(Buffer.concat([head, Buffer.from("plain text, and then nothing more")]));
    const res = await conn.response();
    assert.ok(res, "answered while the body is still due");
    await assertRefused({ httpStatus: res.status, body: JSON.parse(res.body) as SubmitResponse }, 415, /^notes\.pcap is not a pcap or pcapng capture/, slow);
    // The rest of the body never comes: the api stops waiting for it at the upload time limit.
    await conn.closed();
  } finally {
    conn.destroy();
  }
});

// --- API tokens (an api with BROCAPI_AUTH_TOKENS_FILE) ---

const AS_UPLOADER = (): Record<string, string> => ({ authorization: `Bearer ${tokens.uploader}` });

/** A good submission with this Authorization header (none: null), refused with `httpStatus` and `code`, nothing stored. */
async function refusedWith(authorization: string | null, httpStatus: 401 | 403, code: string, status: RegExp, tag?: string): Promise<void> {
  const res = await submit(guarded.url, [{ name: "a.pcap", data: pcap }], tag, "file[]", authorization === null ? {} : { authorization });
  assert.equal(res.body.code, code);
  await assertRefused(res, httpStatus, status, guarded, AS_UPLOADER());
}

test("no Authorization header: 401 BROCAPI_AUTH_MISSING, nothing stored", ANSWERS_IN, async () => {
  await refusedWith(null, 401, "BROCAPI_AUTH_MISSING", /^this request needs an API token: send Authorization: Bearer <token>$/);
});

test("another scheme (Basic): 401 BROCAPI_AUTH_MISSING naming the scheme, nothing stored", ANSWERS_IN, async () => {
  await refusedWith(`Basic ${Buffer.from("admin:admin").toString("base64")}`, 401, "BROCAPI_AUTH_MISSING", /must use the Bearer scheme, not "Basic"/);
});

test("an empty, an overlong, a spaced and a non-ASCII token: 401 BROCAPI_AUTH_INVALID saying what is wrong, nothing stored", ANSWERS_IN, async () => {
  await refusedWith("Bearer ", 401, "BROCAPI_AUTH_INVALID", /^the bearer token is empty$/);
  await refusedWith(`Bearer ${"a".repeat(300)}`, 401, "BROCAPI_AUTH_INVALID", /longer than 256 characters/);
  await refusedWith(`Bearer ${tokens.uploader!.slice(0, 10)} ${tokens.uploader!.slice(10)}`, 401, "BROCAPI_AUTH_INVALID", /holds characters a token never has/);
  await refusedWith(`Bearer ${tokens.uploader}\u00e9`, 401, "BROCAPI_AUTH_INVALID", /holds characters a token never has/);
  await refusedWith("Bearer short", 401, "BROCAPI_AUTH_INVALID", /too short/);
});

test("an unknown and a revoked token: 401 'unknown or revoked', nothing stored", ANSWERS_IN, async () => {
  await refusedWith("Bearer t_never-given-to-anyone-0123456789", 401, "BROCAPI_AUTH_INVALID", /^unknown or revoked API token$/);
  const listed = JSON.parse(await readFile(tokensFile, "utf8")) as { tokens: { name: string }[] };
  await writeFile(tokensFile, JSON.stringify({ tokens: listed.tokens.filter((t) => t.name !== "revoked") }));
  await eventually(
    async () => (await fetch(`${guarded.url}/jobs`, { headers: { authorization: `Bearer ${tokens.revoked}` } })).status === 401,
    10_000,
    "the revocation to be read",
  );
  await refusedWith(`Bearer ${tokens.revoked}`, 401, "BROCAPI_AUTH_INVALID", /^unknown or revoked API token$/);
});

test("a right token for the wrong role or outside its tag scope: 403, nothing stored", ANSWERS_IN, async () => {
  await refusedWith(`Bearer ${tokens.reader}`, 403, "BROCAPI_AUTH_FORBIDDEN", /"reader" lacks the role this needs: submit/);
  await refusedWith(`Bearer ${tokens["case-uploader"]}`, 403, "BROCAPI_AUTH_OUT_OF_SCOPE", /may not submit jobs tagged "other"/, "other");
});

test("a 1 MB Authorization header: 431 in the API's error shape, nothing read, the api still serves", ANSWERS_IN, async () => {
  const conn = await RawConnection.open(guarded.url);
  const { host } = new URL(guarded.url);
  await conn.write(`POST /submit/pcap HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${"x".repeat(MiB)}\r\nContent-Length: 0\r\n\r\n`);
  const res = await conn.response();
  conn.destroy();
  assert.equal(res?.status, 431);
  const body = JSON.parse(res.body) as { success: boolean; code: string; status: string };
  assert.deepEqual([body.success, body.code], [false, "BROCAPI_HEADERS_TOO_LARGE"]);
  await storedNothing(guarded);
  await stillServes(guarded, AS_UPLOADER());
});

// --- names and tags ---

test("hostile file names are stored under safe base names and the job is accepted", ANSWERS_IN, async () => {
  const cases: [RawPart["filename"], string][] = [
    ["../../etc/passwd.pcap", "passwd.pcap"],
    ["/var/tmp/absolute.pcap", "absolute.pcap"],
    ["C:\\captures\\windows.pcap", "windows.pcap"],
    ["../", "upload-1.pcap"],
    ["nul\0byte.pcap", "nulbyte.pcap"],
    ["tab\tand\u0085next.pcap", "tabandnext.pcap"],
    [`${"a".repeat(995)}.pcap`, `${"a".repeat(195)}.pcap`],
    [`${"é".repeat(500)}.pcap`, `${"é".repeat(97)}.pcap`],
    [Buffer.concat([Buffer.from("latin"), Buffer.from([0xe9, 0xff]), Buffer.from(".pcap")]), "latin\ufffd\ufffd.pcap"],
  ];
  for (const [raw, safe] of cases) {
    const job = await assertAccepted(await postForm([{ name: "file[]", filename: raw, data: pcap }]));
    assert.equal(job.files[0]!.name, safe, JSON.stringify(String(raw)));
  }
  // fetch writes a line break in a file name as %0A, as browsers and curl do.
  const res = await submit(stack.url, [{ name: "line\nbreak.pcap", data: pcap }]);
  assert.equal((await assertAccepted(res)).files[0]!.name, "line%0Abreak.pcap");
});

test("a raw line break in a file name: 400 'could not be read' (the parser drops such a part), nothing stored", ANSWERS_IN, async () => {
  const res = await postForm([
    { name: "file[]", filename: "ok.pcap", data: pcap },
    { name: "file[]", filename: "line\nbreak.pcap", data: pcap },
  ]);
  await assertRefused(res, 400, /^malformed multipart body: 1 of its 2 parts could not be read \(.*line break/);
});

test("two files with the same name in one job: both kept as distinct objects, both listed", ANSWERS_IN, async () => {
  const other = Buffer.concat([pcap, pcap.subarray(24)]);
  const res = await submit(stack.url, [
    { name: "same.pcap", data: pcap },
    { name: "same.pcap", data: other },
  ]);
  assert.deepEqual(res.body.files, ["same.pcap", "same.pcap"]);
  const job = await assertAccepted(res);
  assert.deepEqual(
    job.files.map((f) => [f.name, f.size]),
    [
      ["same.pcap", pcap.length],
      ["same.pcap", other.length],
    ],
  );
  assert.notEqual(job.files[0]!.object, job.files[1]!.object);
  assert.deepEqual(Buffer.from((await stack.ctx.topology.pcaps.getBlob(job.files[1]!.object))!), other);
});

test("odd tags are kept verbatim in the job record and reach a real rsyslog as one safe token", { timeout: 60_000 }, async () => {
  const tags = ["case 42 with spaces", "line one\nline two\r\nline three", "<13>Nov  1 00:00:00 evil su: forged", "t".repeat(10_000), "Fall-Ü-事件-🦈"];
  // A whole pipeline of its own, shipping to rsyslog over TCP: the tag must survive rsyslog's parser.
  const rsyslog = await startTestRsyslog();
  const shipping = await startStack({ natsUrl: nats.url, env: { BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${rsyslog.port}`, BROCAPI_SINKS: "syslog" } });
  try {
    const jobs: { tag: string; id: string; lines: number }[] = [];
    for (const tag of tags) {
      // Raw multipart: FormData would turn a lone LF in the tag into CRLF.
      const parts: RawPart[] = [{ name: "file[]", filename: "t.pcap", data: pcap }, { name: "tag", data: tag }];
      const { httpStatus, body } = await json(await fetch(`${shipping.url}/submit/pcap`, { method: "POST", headers: { "content-type": FORM_TYPE }, body: multipartBody(BOUNDARY, parts) }));
      assert.equal(httpStatus, 200, body.status);
      assert.equal(body.tag, tag);
      const job = await shipping.waitForJob(body.job_id);
      assert.equal(job.tag, tag, "kept verbatim in the job record");
      jobs.push({ tag, id: body.job_id, lines: job.files.reduce((n, f) => n + Object.values(f.lines).reduce((a, b) => a + b, 0), 0) });
    }
    const expected = jobs.reduce((n, j) => n + j.lines, 0);
    assert.ok(expected >= tags.length, "every job shipped lines");
    await eventually(async () => (await rsyslog.received()).length >= expected, 30_000, `${expected} messages at rsyslog`);
    const received = await rsyslog.received();
    // A tag that broke the header would shift rsyslog's fields or start a second message.
    assert.equal(received.length, expected, "one message per line: no tag started a message of its own");
    for (const r of received) {
      assert.match(r.hostname, /^[\x21-\x7e]{1,255}$/, `HOSTNAME as rsyslog parsed it: ${JSON.stringify(r.hostname.slice(0, 60))}`);
      assert.match(r.program, /^bro_[a-z_]+$/, `the program field stays in place: ${JSON.stringify(r.program.slice(0, 60))}`);
      assert.equal(r.msg.split("\t").length > 10, true, `the message is a whole Zeek line: ${JSON.stringify(r.msg.slice(0, 60))}`);
    }
    const byHost = new Map<string, number>();
    for (const r of received) byHost.set(r.hostname, (byHost.get(r.hostname) ?? 0) + 1);
    assert.equal(byHost.size, tags.length, `each tag its own HOSTNAME: ${JSON.stringify([...byHost.keys()].map((h) => h.slice(0, 40)))}`);
    for (const job of jobs) assert.equal(byHost.get(syslogHostname(job.tag)), job.lines, `the lines of the job tagged ${JSON.stringify(job.tag.slice(0, 40))}`);
  } finally {
    await shipping.stop();
    await rsyslog.cleanup();
  }
});

// --- load ---

/** A port nothing listens on now, for an api in a process of its own. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Streams one multipart upload of `size` bytes (a pcap header, then a repeated block); resolves with the answer and the file's SHA-256. */
async function streamUpload(url: string, name: string, size: number, block: Buffer, zone: number): Promise<{ body: SubmitResponse; sha256: string }> {
  const header = Buffer.from(pcap.subarray(0, 24));
  // thiszone differs per upload, so each file has its own digest.
  header.writeInt32LE(zone, 8);
  const head = partHead(BOUNDARY, { name: "file[]", filename: name });
  const end = Buffer.concat([Buffer.from("\r\n"), formEnd(BOUNDARY)]);
  const hash = createHash("sha256");
  async function* bytes(): AsyncGenerator<Buffer> {
    yield head;
    hash.update(header);
    yield header;
    for (let left = size - header.length; left > 0; left -= block.length) {
      const chunk = block.subarray(0, Math.min(left, block.length));
      hash.update(chunk);
      yield chunk;
    }
    yield end;
  }
  const req = request(`${url}/submit/pcap`, { method: "POST", headers: { "content-type": FORM_TYPE, "content-length": head.length + size + end.length } });
  const answer = once(req, "response") as Promise<[IncomingMessage]>;
  await pipeline(Readable.from(bytes()), req);
  const [res] = await answer;
  return { body: JSON.parse(await text(res)) as SubmitResponse, sha256: hash.digest("hex") };
}

test("50 concurrent uploads of 20 MB: all accepted and stored with their SHA-256, the api's peak memory far below their 1 GB", { timeout: 180_000 }, async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = spawn(process.execPath, [API_MAIN], {
    env: {
      PATH: process.env.PATH,
      NATS_URL: nats.url,
      BROCAPI_HTTP_PORT: String(port),
      BROCAPI_HTTP_HOST: "127.0.0.1",
      BROCAPI_DATA_DIR: stack.dataDir,
      BROCAPI_LOG_LEVEL: "warn",
      // The same streams as the in-process api, so its handles can check what was stored.
      BROCAPI_NATS_PREFIX: stack.config.nats.prefix,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = once(api, "exit");
  try {
    await eventually(async () => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200, 20_000, "the api process to listen");
    const size = 20 * 1000 * 1000;
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < block.length; i++) block[i] = (i * 131) % 251;
    const uploads = await Promise.all(Array.from({ length: 50 }, (_, i) => streamUpload(url, `big-${i}.pcap`, size, block, i)));
    const { peak } = await memoryMb(api.pid!);
    for (const { body, sha256 } of uploads) {
      assert.equal(body.success, true, body.status);
      known.add(body.job_id);
      const job = (await (await fetch(`${stack.url}/jobs/${body.job_id}`)).json()) as { files: { object: string; sha256: string; size: number }[] };
      assert.deepEqual([job.files[0]!.sha256, job.files[0]!.size], [sha256, size]);
      // The object store's own digest, computed on its side of the transfer, agrees.
      const info = await stack.ctx.topology.pcaps.info(job.files[0]!.object);
      assert.equal(info?.digest, `SHA-256=${Buffer.from(sha256, "hex").toString("base64url")}=`);
    }
    assert.ok(peak < 400, `api peak RSS ${Math.round(peak)} MB for 1 GB uploaded`);
  } finally {
    api.kill("SIGTERM");
    await exited;
  }
});
