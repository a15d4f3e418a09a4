import { createHash } from "node:crypto";
import { AckPolicy, DeliverPolicy, type ConsumerMessages } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { chunkSubject, digestBytes, objectStream, type Bucket, type ObjectMeta } from "./object-layout.js";
import { readMeta } from "./read-meta.js";

export interface GetOptions {
  /** Chunk bytes asked for per pull request. */
  batchBytes?: number;
  /** Pull requests outstanding at once: memory held is about batchBytes × this. */
  batches?: number;
  /** How long one pull request may wait for its chunks. */
  expiresMs?: number;
}

export interface ObjectRead {
  meta: ObjectMeta;
  /**
   * The object's bytes in order, never more than `batchBytes × batches` held. Throws, after the
   * last byte, when the chunks do not add up to the meta's size and digest; a consumer that
   * stops reading early ends the read and frees its consumer.
   */
  data: AsyncGenerator<Buffer>;
}

/** Thrown when the chunks read do not make up the object the meta describes. */
export class ObjectReadError extends Error {
  override readonly name = "ObjectReadError";
}

const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
const DEFAULT_BATCHES = 4;
const DEFAULT_EXPIRES_MS = 30_000;
/** The stock client's chunk size, when a meta does not say its own. */
const STOCK_CHUNK_BYTES = 128 * 1024;

/**
 * Reads object `name` as the stock `os.get` does (same meta, chunk subject and digest check),
 * with flow control: an ephemeral pull consumer on the object's chunk subject, and a few pull
 * requests for a few MiB each kept outstanding, so the server streams ahead of the reader by a
 * bounded amount however slow the reader is (the stock reader pushes without bound). Null when
 * the object does not exist or was deleted.
 */
export async function getObject(source: Bucket, name: string, opts: GetOptions = {}): Promise<ObjectRead | null> {
  const meta = await readMeta(source.jsm, source.name, name);
  if (!meta || meta.deleted) return null;
  if (meta.options?.link) throw new ObjectReadError(`object ${name} is a link; links are not read here`);
  const expected = digestBytes(meta.digest);
  if (!expected) throw new ObjectReadError(`object ${name} has an unknown digest: ${meta.digest}`);
  return { meta, data: readChunks(source, meta, expected, opts) };
}

/**
 * An object of one chunk (up to 512 KiB as the api stores captures) by one direct get of its
 * chunk subject's last message: nothing is created on the server, where a consumer costs three
 * requests (create, fetch, delete) and the server's work of setting it up and removing it — for
 * a job of 10,000 small captures, most of what reading them cost. Null when the server that
 * answered has no chunk (a replica behind its leader may): the consumer, served by the
 * leader, reads it then. Larger objects keep the consumer: direct gets cannot read ahead.
 */
async function singleChunk({ jsm, name: bucket }: Bucket, meta: ObjectMeta): Promise<Buffer | null> {
  if (meta.chunks !== 1) return null;
  const m = await jsm.direct.getMessage(objectStream(bucket), { last_by_subj: chunkSubject(bucket, meta.nuid) });
  return m ? Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength) : null;
}

async function* readChunks(source: Bucket, meta: ObjectMeta, expected: Buffer, opts: GetOptions): AsyncGenerator<Buffer> {
  const { js, jsm, name: bucket } = source;
  const hash = createHash("sha256");
  let size = 0;
  let chunks = 0;
  const single = await singleChunk(source, meta);
  if (single) {
    chunks++;
    hash.update(single);
    size += single.length;
    yield single;
  } else if (meta.chunks > 0) {
    const stream = objectStream(bucket);
    const expires = opts.expiresMs ?? DEFAULT_EXPIRES_MS;
    const info = await jsm.consumers.add(stream, {
      filter_subject: chunkSubject(bucket, meta.nuid),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      mem_storage: true,
      // The server removes it on its own if this reader dies.
      inactive_threshold: nanos(Math.max(expires * 2, 60_000)),
    });
    const consumer = await js.consumers.get(stream, info.name);
    const perBatch = Math.max(1, Math.floor((opts.batchBytes ?? DEFAULT_BATCH_BYTES) / (meta.options?.max_chunk_size ?? STOCK_CHUNK_BYTES)));
    const outstanding: { messages: Promise<ConsumerMessages>; count: number }[] = [];
    let requested = 0;
    const request = (): void => {
      const count = Math.min(perBatch, meta.chunks - requested);
      if (count <= 0) return;
      requested += count;
      const messages = consumer.fetch({ max_messages: count, expires });
      messages.catch(() => undefined);
      outstanding.push({ messages, count });
    };
    try {
      for (let i = 0; i < (opts.batches ?? DEFAULT_BATCHES); i++) request();
      let lastSeq = 0;
      while (outstanding.length > 0) {
        const batch = outstanding.shift()!;
        request();
        let got = 0;
        for await (const m of await batch.messages) {
          // Pull requests are served in order, so a lower sequence would mean chunks out of order.
          if (m.seq <= lastSeq) throw new ObjectReadError(`object ${meta.name}: chunk ${m.seq} arrived after ${lastSeq}`);
          lastSeq = m.seq;
          got++;
          chunks++;
          const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
          hash.update(data);
          size += data.length;
          yield data;
        }
        if (got < batch.count) throw new ObjectReadError(`object ${meta.name}: read ${chunks} of its ${meta.chunks} chunks, then the server sent no more`);
      }
    } finally {
      for (const o of outstanding) void o.messages.then((m) => m.stop()).catch(() => undefined);
      void jsm.consumers.delete(stream, info.name).catch(() => undefined);
    }
  }
  if (chunks !== meta.chunks || size !== meta.size) {
    throw new ObjectReadError(`object ${meta.name}: read ${size} bytes in ${chunks} chunks, its meta says ${meta.size} in ${meta.chunks}`);
  }
  const digest = hash.digest();
  if (!digest.equals(expected)) {
    throw new ObjectReadError(`object ${meta.name} is corrupt: its digest is ${meta.digest}, its bytes hash to SHA-256 ${digest.toString("hex")}`);
  }
}
