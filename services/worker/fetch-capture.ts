import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { ObjectStore } from "@nats-io/obj";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";

/** Streams a capture from the object store to a local file Zeek can read; never held in memory. */
export async function fetchCapture(store: ObjectStore, object: string, path: string): Promise<void> {
  const result = await store.get(object);
  if (!result) {
    throw new BrocapiError(ErrorCodes.PCAP_MISSING, `capture ${object} is no longer in the object store (deleted or expired)`, { permanent: true });
  }
  await pipeline(Readable.fromWeb(result.data as WebReadableStream<Uint8Array>), createWriteStream(path));
  // The object store reports a digest mismatch or a missing chunk here, after the data ends.
  const err = await result.error;
  if (err) throw err;
}
