import { createHash } from "node:crypto";
import { feedChunks, ObjectReadError } from "./chunk-feed.js";
import { chunkSubject, digestBytes, objectStream, type Bucket, type ObjectMeta } from "./object-layout.js";
import { readMeta } from "./read-meta.js";

export { ObjectReadError };

export interface GetOptions {
  /** Idle heartbeat of the read's consumer: nothing heard for three of them fails the read. */
  heartbeatMs?: number;
}

export interface ObjectRead {
  meta: ObjectMeta;
  /**
   * The object's bytes in order, the server never more than its flow-control window ahead of the
   * reader. Throws, after the last byte, when the chunks do not add up to the meta's size and
   * digest; a consumer that stops reading early ends the read and frees its consumer.
   */
  data: AsyncGenerator<Buffer>;
}

const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * Reads object `name` as the stock `os.get` does (same meta, chunk subject, push consumer with
 * flow control, digest check), with back-pressure the stock reader lacks (chunk-feed.ts). Null when
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
 * chunk subject's last message: nothing is created on the server, where a consumer costs two
 * requests (create, delete) and the server's work of setting it up and removing it — for
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
  const hash = createHash("sha256");
  let size = 0;
  let chunks = 0;
  const single = await singleChunk(source, meta);
  const all = single ? [single] : meta.chunks > 0 ? feedChunks(source, meta, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS) : [];
  for await (const chunk of all) {
    const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    chunks++;
    hash.update(data);
    size += data.length;
    yield data;
  }
  if (chunks !== meta.chunks || size !== meta.size) {
    throw new ObjectReadError(`object ${meta.name}: read ${size} bytes in ${chunks} chunks, its meta says ${meta.size} in ${meta.chunks}`);
  }
  const digest = hash.digest();
  if (!digest.equals(expected)) {
    throw new ObjectReadError(`object ${meta.name} is corrupt: its digest is ${meta.digest}, its bytes hash to SHA-256 ${digest.toString("hex")}`);
  }
}
