import { createHash } from "node:crypto";
import { Readable, Transform, pipeline } from "node:stream";
import type { ObjectStore } from "@nats-io/obj";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import { captureFormatOf, isGzip, MAGIC_BYTES, type CaptureFormat } from "../../../shared/pcap/capture-format.js";

export interface StoredCapture {
  object: string;
  size: number;
  sha256: string;
  format: CaptureFormat;
}

/** Object store chunk size: larger than the 128 KiB default means fewer round trips per upload. */
const CHUNK_BYTES = 512 * 1024;

function notACapture(name: string, head: Uint8Array): UploadError {
  const why =
    head.length === 0
      ? "is empty"
      : isGzip(head)
        ? "is gzip-compressed; decompress it first (Zeek reads only pcap and pcapng)"
        : "is not a pcap or pcapng capture (unknown file format)";
  return new UploadError(ErrorCodes.UPLOAD_NOT_A_CAPTURE, `${name} ${why}`, 415);
}

/**
 * Streams one uploaded file into the object store while hashing it and checking its first bytes
 * are a capture. Nothing is buffered beyond one chunk; on any failure the partial object is
 * deleted and the error rethrown.
 */
export async function storeCapture(store: ObjectStore, object: string, displayName: string, file: Readable): Promise<StoredCapture> {
  const hash = createHash("sha256");
  let size = 0;
  let head = Buffer.alloc(0);
  let format: CaptureFormat | null = null;
  const inspect = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      if (!format) {
        head = Buffer.concat([head, chunk.subarray(0, MAGIC_BYTES)]);
        if (head.length >= MAGIC_BYTES) {
          format = captureFormatOf(head);
          if (!format) return done(notACapture(displayName, head));
        }
      }
      done(null, chunk);
    },
    flush(done) {
      done(format ? null : notACapture(displayName, head));
    },
  });
  const source = pipeline(file, inspect, () => undefined);
  try {
    await store.put({ name: object, options: { max_chunk_size: CHUNK_BYTES } }, Readable.toWeb(source) as ReadableStream<Uint8Array>);
  } catch (err) {
    await store.delete(object).catch(() => undefined);
    // The transform's own error is the one a person needs; the store only saw an aborted stream.
    throw inspect.errored ?? file.errored ?? err;
  }
  return { object, size, sha256: hash.digest("hex"), format: format! };
}
