import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { ObjectStore } from "@nats-io/obj";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";

/**
 * No chunk of a capture for this long means the read is stuck: the object store's reader does not
 * always resume after nats-server restarts in the middle of it, and the task's heartbeat would
 * keep it from ever going to another worker. A healthy server sends a chunk in milliseconds.
 */
const FETCH_STALL_MS = 10_000;

/** Streams a capture from the object store to a local file Zeek can read; never held in memory. */
export async function fetchCapture(store: Pick<ObjectStore, "get">, object: string, path: string, stallMs = FETCH_STALL_MS): Promise<void> {
  const result = await store.get(object);
  if (!result) {
    throw new BrocapiError(ErrorCodes.PCAP_MISSING, `capture ${object} is no longer in the object store (deleted or expired)`, { permanent: true });
  }
  // Awaited below, after the data; observed now so a failure while the copy fails too is not unhandled.
  result.error.catch(() => undefined);
  const watchdog = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      stall.refresh();
      done(null, chunk);
    },
  });
  const stall = setTimeout(
    () => watchdog.destroy(new BrocapiError(ErrorCodes.BROKER_UNAVAILABLE, `reading capture ${object} from the object store stalled for ${stallMs} ms`)),
    stallMs,
  );
  try {
    await pipeline(Readable.fromWeb(result.data as WebReadableStream<Uint8Array>), watchdog, createWriteStream(path));
  } finally {
    clearTimeout(stall);
  }
  // The object store reports a digest mismatch or a missing chunk here, after the data ends.
  const err = await result.error;
  if (err) throw err;
}
