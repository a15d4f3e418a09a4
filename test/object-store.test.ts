import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { Objm, setSha256Backend, type ObjectStore } from "@nats-io/obj";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { getObject, ObjectReadError } from "../shared/objects/get-object.js";
import { metaSubject, objectStream, type Bucket, type ObjectMeta } from "../shared/objects/object-layout.js";
import { PublishError } from "../shared/objects/ack-window.js";
import { putObject } from "../shared/objects/put-object.js";
import { isBrokerUnavailable } from "../shared/nats/broker-errors.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";

let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
let stock: ObjectStore;
let bucket: Bucket;
const BUCKET = "objtest";

before(async () => {
  setSha256Backend("native");
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  stock = await new Objm(nc).create(BUCKET);
  bucket = { nc, js: jetstream(nc), jsm, name: BUCKET };
});

after(async () => {
  await nc?.close();
  await nats?.cleanup();
});

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

async function readAll(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of data) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

const chunkSubjects = async (): Promise<string[]> =>
  Object.keys((await jsm.streams.info(objectStream(BUCKET), { subjects_filter: `$O.${BUCKET}.C.>` })).state.subjects ?? {});

// Sizes around the chunk boundary, and none at all.
const SIZES = [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 5 * 64 * 1024 + 17];

test("the stock os.get reads what the pipelined put wrote, and its digest verifies", async () => {
  for (const size of SIZES) {
    const data = randomBytes(size);
    const name = `pipelined-${size}`;
    const put = await putObject(bucket, name, pieces(data, 10_000), { chunkBytes: 64 * 1024, windowBytes: 4 * 64 * 1024 });
    assert.equal(put.sha256, createHash("sha256").update(data).digest("hex"));
    assert.equal(put.meta.size, size);
    assert.equal(put.meta.chunks, Math.ceil(size / (64 * 1024)));
    const got = await stock.get(name);
    assert.ok(got, name);
    const bytes = await readAll(got.data);
    // The stock reader rejects `error` when the digest does not match the bytes.
    assert.ok(!(await got.error), name);
    assert.deepEqual(bytes, data, name);
    const info = await stock.info(name);
    assert.equal(info?.size, size);
    assert.equal(info?.digest, put.meta.digest);
  }
});

test("the pipelined get reads what the stock os.put wrote (default and larger chunks)", async () => {
  for (const size of SIZES) {
    for (const max_chunk_size of [undefined, 100_000]) {
      const data = randomBytes(size * 3);
      const name = `stock-${size}-${max_chunk_size ?? "default"}`;
      await stock.putBlob({ name, ...(max_chunk_size ? { options: { max_chunk_size } } : {}) }, data);
      const read = await getObject(bucket, name);
      assert.ok(read, name);
      assert.deepEqual(await readAll(read.data), data, name);
      assert.equal(read.meta.size, data.length);
    }
  }
  assert.equal(await getObject(bucket, "never-stored"), null);
  await stock.delete("stock-1-default");
  assert.equal(await getObject(bucket, "stock-1-default"), null, "a deleted object reads as absent");
});

test("a digest that does not match the chunks fails the read after the last byte (read by a consumer, or one direct get)", async () => {
  for (const size of [300_000, 50_000]) {
    const name = `tampered-${size}`;
    const { meta } = await putObject(bucket, name, pieces(randomBytes(size), 50_000), { chunkBytes: 64 * 1024 });
    const forged: ObjectMeta = { ...meta, digest: `SHA-256=${createHash("sha256").update("other").digest("base64url")}=` };
    const h = headers();
    h.set("Nats-Rollup", "sub");
    await bucket.js.publish(metaSubject(BUCKET, name), JSON.stringify(forged), { headers: h });
    const read = await getObject(bucket, name);
    await assert.rejects(readAll(read!.data), (err: unknown) => err instanceof ObjectReadError && /is corrupt: its digest is SHA-256=/.test(err.message));
    // The stock reader agrees.
    const got = await stock.get(name);
    await assert.rejects(readAll(got!.data), /digests do not match/);
  }
});

test("a put whose source fails stores nothing; replacing an object purges the old chunks", async () => {
  const before = await chunkSubjects();
  async function* failing(): AsyncGenerator<Buffer> {
    yield randomBytes(200_000);
    throw new Error("client went away");
  }
  await assert.rejects(putObject(bucket, "broken", failing(), { chunkBytes: 64 * 1024 }), /client went away/);
  assert.deepEqual(await chunkSubjects(), before, "no chunk of the failed put is left");
  assert.equal(await stock.info("broken"), null);

  const first = await putObject(bucket, "replaced", pieces(randomBytes(100_000), 100_000), { chunkBytes: 64 * 1024 });
  const second = randomBytes(70_000);
  await putObject(bucket, "replaced", pieces(second, 7_000), { chunkBytes: 64 * 1024 });
  assert.ok(!(await chunkSubjects()).includes(`$O.${BUCKET}.C.${first.meta.nuid}`), "the replaced object's chunks are purged");
  assert.deepEqual(Buffer.from((await stock.getBlob("replaced"))!), second);
});

test("a slow reader holds the server back: it delivers no more than its flow-control window ahead", async () => {
  const chunks = 256;
  const data = randomBytes(chunks * 64 * 1024);
  await putObject(bucket, "slow", pieces(data, 64 * 1024), { chunkBytes: 64 * 1024 });
  const read = await getObject(bucket, "slow");
  const first = await read!.data.next();
  assert.equal(first.value?.length, 64 * 1024);
  await new Promise((r) => setTimeout(r, 300));
  // The stock reads above leave their own consumers behind for a while: only this read's counts.
  const subject = `$O.${BUCKET}.C.${read!.meta.nuid}`;
  const readers = async (): Promise<ConsumerInfo[]> => (await jsm.consumers.list(objectStream(BUCKET)).next()).filter((c) => c.config.filter_subject === subject);
  const consumers = await readers();
  assert.equal(consumers.length, 1);
  // nats-server's flow-control window is bytes (2 MiB measured with 2.9 and 64 KiB or 512 KiB
  // chunks); a quarter of this 16 MiB object is more than it ever sends ahead unanswered.
  assert.ok(consumers[0]!.delivered.stream_seq > 0);
  const ahead = chunks - consumers[0]!.num_pending;
  assert.ok(ahead <= chunks / 4, `delivered ahead of the reader: ${ahead} chunks`);
  const rest = await readAll({ [Symbol.asyncIterator]: () => read!.data });
  assert.deepEqual(Buffer.concat([first.value!, rest]), data);
  // The read's consumer is removed when it ends.
  for (let i = 0; i < 50 && (await readers()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await readers()).length, 0);
});

test("a read whose server falls silent fails after three missed heartbeats; a reader that pauses longer does not", { timeout: 30_000 }, async () => {
  // A server of its own, frozen with SIGSTOP: the connection stays up and nothing more comes.
  const own = await startTestNats();
  const conn = await connect({ servers: own.url });
  try {
    const b: Bucket = { nc: conn, js: jetstream(conn), jsm: await jetstreamManager(conn), name: BUCKET };
    await new Objm(conn).create(BUCKET);
    const data = randomBytes(128 * 64 * 1024);
    await putObject(b, "quiet", pieces(data, 64 * 1024), { chunkBytes: 64 * 1024 });
    const paused = await getObject(b, "quiet", { heartbeatMs: 100 });
    const first = await paused!.data.next();
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(Buffer.concat([first.value!, await readAll({ [Symbol.asyncIterator]: () => paused!.data })]), data);
    const read = await getObject(b, "quiet", { heartbeatMs: 100 });
    await read!.data.next();
    own.process.kill("SIGSTOP");
    await assert.rejects(readAll({ [Symbol.asyncIterator]: () => read!.data }), (err: unknown) => err instanceof ObjectReadError && /nothing came for 300 ms/.test(err.message));
  } finally {
    own.process.kill("SIGCONT");
    await conn.close();
    await own.cleanup();
  }
});

test("a read whose chunks are purged under it (its job deleted) fails: the server's idle heartbeats alone do not keep it waiting", { timeout: 30_000 }, async () => {
  const data = randomBytes(128 * 64 * 1024);
  const put = await putObject(bucket, "purged-under-read", pieces(data, 64 * 1024), { chunkBytes: 64 * 1024 });
  const read = await getObject(bucket, "purged-under-read", { heartbeatMs: 100 });
  await read!.data.next();
  // Past the read's flow-control window (~2 MiB): what is left of the 8 MiB is never delivered.
  await jsm.streams.purge(objectStream(BUCKET), { filter: `$O.${BUCKET}.C.${put.meta.nuid}` });
  await assert.rejects(readAll({ [Symbol.asyncIterator]: () => read!.data }), (err: unknown) => err instanceof ObjectReadError && /nothing came for 300 ms/.test(err.message));
});

test("a stream that refuses a chunk fails the put with the stream's reason, and nothing is left", async () => {
  const small = await new Objm(nc).create("objsmall", { max_bytes: 1_000_000 });
  const target = { ...bucket, name: "objsmall" };
  await assert.rejects(
    putObject(target, "too-big", pieces(randomBytes(3_000_000), 100_000), { chunkBytes: 64 * 1024 }),
    // NATS sends this refusal with its 503 code, yet the broker is not away: waiting does not
    // help, so the api must not answer "try again" (test/api-outage.test.ts: 507).
    (err: unknown) => err instanceof PublishError && err.limit && !isBrokerUnavailable(err) && /refused message \d+: maximum bytes exceeded/.test(err.message),
  );
  const info = await jsm.streams.info(objectStream("objsmall"));
  assert.equal(info.state.messages, 0, "the chunks stored before the refusal are purged");
  assert.equal(await small.info("too-big"), null);
});

// The reason says the put gave up because the connection closed, not because its acks were
// overdue (the watchdog's reason, after the 60 s ack timeout): the 20 s only guards against a hang.
test("a put whose connection closes fails for that reason, not by waiting out the ack timeout", { timeout: 20_000 }, async () => {
  const nc2 = await connect({ servers: nats.url });
  const target = { nc: nc2, js: jetstream(nc2), jsm: await jetstreamManager(nc2), name: BUCKET };
  async function* closing(): AsyncGenerator<Buffer> {
    yield randomBytes(200_000);
    await nc2.close();
    yield randomBytes(200_000);
  }
  await assert.rejects(
    putObject(target, "closing", closing(), { chunkBytes: 64 * 1024, timeoutMs: 60_000 }),
    (err: unknown) => err instanceof PublishError && isBrokerUnavailable(err) && !err.limit && /no acknowledgements can come any more/.test(err.message),
  );
});

test("an object of one chunk is read by one direct get: no consumer is created", async () => {
  // Every consumer a read creates is a request on the JetStream API, seen here as it is sent.
  let creates = 0;
  const sub = nc.subscribe(`$JS.API.CONSUMER.CREATE.${objectStream(BUCKET)}.>`, { callback: () => void creates++ });
  const legacy = nc.subscribe(`$JS.API.CONSUMER.CREATE.${objectStream(BUCKET)}`, { callback: () => void creates++ });
  const read = async (name: string, data: Buffer): Promise<void> => {
    await putObject(bucket, name, pieces(data, 10_000), { chunkBytes: 64 * 1024 });
    const got = await getObject(bucket, name);
    assert.deepEqual(await readAll({ [Symbol.asyncIterator]: () => got!.data }), data);
    await nc.flush();
  };
  await read("one-chunk", randomBytes(50_000));
  assert.equal(creates, 0, "the one-chunk read created no consumer");
  await read("two-chunks", randomBytes(100_000));
  assert.equal(creates, 1, "a larger object is read through its consumer");
  sub.unsubscribe();
  legacy.unsubscribe();
});
