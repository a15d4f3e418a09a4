import { createHash } from "node:crypto";
import { headers, nuid } from "@nats-io/transport-node";
import { AckWindow } from "./ack-window.js";
import { ByteBudget } from "./byte-budget.js";
import { chunkSubject, digestField, metaSubject, objectStream, type Bucket, type ObjectMeta } from "./object-layout.js";
import { readMeta } from "./read-meta.js";

export interface PutOptions {
  /** Bytes per chunk message; capped at the server's max_payload. */
  chunkBytes?: number;
  /** Bytes of chunks awaiting their PubAck at once: what the put holds in memory, and what makes it fast. */
  windowBytes?: number;
  /** Ack wait per chunk. */
  timeoutMs?: number;
  /** Shared with other puts of the process: bounds what all of them hold together. */
  budget?: ByteBudget;
  /**
   * The name was never stored (a new job's capture): no look-up of an earlier object to replace,
   * a request to the stream leader saved per object (one per capture of a job of many).
   */
  fresh?: boolean;
}

export interface PutResult {
  meta: ObjectMeta;
  /** The SHA-256 of the bytes stored, hex: the meta's digest, so callers need not hash again. */
  sha256: string;
}

export const DEFAULT_CHUNK_BYTES = 512 * 1024;
const DEFAULT_WINDOW_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Every put of a process together: two windows' worth, whatever the number of concurrent uploads
 * (50 uploads at once took an api under heavy CPU load to 401 MB with four).
 */
const processBudget = new ByteBudget(2 * DEFAULT_WINDOW_BYTES);

/**
 * Stores `source` as object `name` in the same layout as the stock `os.put` (see
 * object-layout.ts), but publishes chunks without waiting for each PubAck: up to `windowBytes`
 * are in flight, in order on one connection, so the stream stores them in order. The meta is
 * published only after every chunk is acked; on any failure the chunks already stored are
 * purged and nothing names them. All puts of a process share one budget of in-flight bytes. An earlier object of the same name is replaced, its chunks
 * purged, as the stock client does.
 */
export async function putObject(target: Bucket, name: string, source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
  const { nc, js, jsm, name: bucket } = target;
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const chunkBytes = Math.min(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, maxPayload);
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stream = objectStream(bucket);
  const old = opts.fresh ? null : await readMeta(jsm, bucket, name);
  const id = nuid.next();
  const subject = chunkSubject(bucket, id);
  const hash = createHash("sha256");
  const window = new AckWindow(nc, {
    stream,
    windowBytes: Math.max(opts.windowBytes ?? DEFAULT_WINDOW_BYTES, chunkBytes),
    timeoutMs: timeout,
    budget: opts.budget ?? processBudget,
  });
  let size = 0;
  let chunks = 0;
  // Pieces shorter than a chunk wait here until they fill one or the source ends, and go out
  // joined: a capture smaller than a chunk goes out as it came. Not a chunk-sized buffer per put:
  // one of 512 KiB per capture was the most an upload of 10,000 small captures allocated.
  let pending: Uint8Array[] = [];
  let filled = 0;
  const publish = async (payload: Uint8Array): Promise<void> => {
    hash.update(payload);
    size += payload.length;
    chunks++;
    await window.send(subject, payload);
  };
  const flush = async (): Promise<void> => {
    const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, filled);
    pending = [];
    filled = 0;
    await publish(joined);
  };

  try {
    for await (const piece of source) {
      let off = 0;
      // Whole chunks of a large piece go out as they are: the client copies every chunk into its
      // outbound buffer anyway, a copy here first would be a second.
      for (; filled === 0 && piece.length - off >= chunkBytes; off += chunkBytes) await publish(piece.subarray(off, off + chunkBytes));
      while (off < piece.length) {
        const n = Math.min(piece.length - off, chunkBytes - filled);
        pending.push(piece.subarray(off, off + n));
        filled += n;
        off += n;
        if (filled === chunkBytes) await flush();
      }
    }
    if (filled > 0) await flush();
    await window.settled();
    const sha256 = hash.digest();
    const meta: ObjectMeta = {
      bucket,
      nuid: id,
      size,
      chunks,
      name,
      description: "",
      options: { max_chunk_size: chunkBytes },
      mtime: new Date().toISOString(),
      digest: digestField(sha256),
      deleted: false,
    };
    const h = headers();
    h.set("Nats-Rollup", "sub");
    await js.publish(metaSubject(bucket, name), JSON.stringify(meta), { headers: h, timeout });
    if (old) await jsm.streams.purge(stream, { filter: chunkSubject(bucket, old.nuid) }).catch(() => undefined);
    return { meta, sha256: sha256.toString("hex") };
  } catch (err) {
    // Chunks still in flight may land after the purge unless they are settled first.
    await window.quiet();
    await jsm.streams.purge(stream, { filter: subject }).catch(() => undefined);
    throw err;
  } finally {
    window.close();
  }
}
