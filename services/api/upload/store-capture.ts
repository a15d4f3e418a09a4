import { PassThrough, type Readable } from "node:stream";
import { BrocapiError, ErrorCodes, UploadError } from "../../../shared/errors.js";
import { PublishError } from "../../../shared/objects/ack-window.js";
import type { Bucket } from "../../../shared/objects/object-layout.js";
import { putObject } from "../../../shared/objects/put-object.js";
import { LINK_TYPE_SCAN_BYTES, linkTypeOf, type CaptureFormat } from "../../../shared/pcap/capture-format.js";
import { HEAD_BYTES, readCaptureHead, type CaptureHead } from "./capture-header.js";
import { UploadDecoder, type Compressed } from "./decompress.js";
import { uploadCutOff } from "./upload-body.js";

export interface StoredCapture {
  object: string;
  size: number;
  sha256: string;
  format: CaptureFormat;
  /** The link type (pcap header, or first pcapng interface); null when not found near the start. */
  linkType: number | null;
  /** Set when the upload was gzip/zstd: `size` and `sha256` are then the inflated capture's. */
  compressed?: Compressed;
}

export interface CaptureTarget {
  /** Object name in the store: a new job's, never stored under before. */
  object: string;
  /** The file's safe name, for messages. */
  name: string;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** A compressed upload may inflate to at most this many times its size. */
  maxInflateRatio: number;
  /** What the submission's earlier files left of `maxTotalBytes`. */
  bytesLeft: number;
  /** The upload's time limit: aborting it stops the transfer. */
  signal: AbortSignal;
  /** An empty file is no upload at all (what a form sends for a file input left blank), not an error. */
  emptyIsNothing: boolean;
}

function notACapture(name: string, why: string): UploadError {
  return new UploadError(ErrorCodes.UPLOAD_NOT_A_CAPTURE, `${name} ${why}`, 415);
}

function tooLarge(message: string): UploadError {
  return new UploadError(ErrorCodes.UPLOAD_TOO_LARGE, message, 413);
}

/** Below this many inflated bytes the ratio is not judged: a capture's first compressed bytes can say little. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

/** The parser ends a file's stream early, with this error, when the body stops mid-file. */
function cutOff(err: unknown): boolean {
  return /terminated early/.test((err as Error).message);
}

/**
 * Thrown through the store to keep it from writing an empty object, and caught here; one for all
 * uploads, as an Error made per file (its stack captured) was a third of what a small capture's
 * store allocated.
 */
const NOTHING = new Error("empty file");

/**
 * The file's bytes, drained as they come: the parser destroys a file's stream when a malformed
 * body ends, even one it has ended, and bytes still unread there would be lost. A stream closed
 * before its end (the client went away) fails the drain with the cut-off answer. A pipe with its
 * two ends wired here rather than `stream.pipeline`: in an upload of 10,000 small captures the
 * pipeline's per-file watchers (end-of-stream listeners, an AbortController) got promoted out of
 * V8's young generation with everything they reached, half of the old-generation growth
 * (docs/BENCHMARKS.md, 2026-12-02 05:00).
 */
function drained(file: Readable): PassThrough {
  const out = new PassThrough();
  file.once("error", (err) => out.destroy(err));
  file.once("close", () => {
    if (!file.readableEnded) out.destroy(uploadCutOff());
  });
  file.pipe(out);
  return out;
}

/** What the checks learn of a capture as its bytes pass. */
interface Seen {
  size: number;
  format?: CaptureFormat;
  /** Undefined until the first bytes tell it (or the end says they never will). */
  linkType?: number | null;
}

/**
 * The capture's bytes as they pass from the upload (inflated by `decoder`) to the store, checked
 * on the way: the size limits, the inflation ratio, a whole pcap or pcapng file header; what they
 * show is left in `seen`. A generator, not a stream stage: each piece passes in one step. Declared
 * once here, not as a closure made per upload: a generator function made per file kept each
 * file's objects alive past V8's young generation, and an upload of 10,000 small captures
 * promoted ~3 KB per file more (docs/BENCHMARKS.md, 2026-12-02 05:55).
 */
async function* checked(decoder: UploadDecoder, body: Readable, target: CaptureTarget, seen: Seen): AsyncGenerator<Buffer> {
  const { name } = target;
  let pending = Buffer.alloc(0);
  let head: CaptureHead | null = null;
  // The first bytes, kept until they tell the link type (merge mode needs one for all captures).
  let sniffed = Buffer.alloc(0);
  for await (const chunk of decoder.decode(body)) {
    seen.size += chunk.length;
    const { size } = seen;
    if (decoder.encoding) {
      if (size > RATIO_FLOOR_BYTES && size > target.maxInflateRatio * decoder.uploadedBytes) {
        throw tooLarge(`${name} inflates to more than ${target.maxInflateRatio} times its ${decoder.encoding}-compressed size (a decompression bomb?); nothing was kept`);
      }
      if (size > target.maxFileBytes) throw tooLarge(`${name} inflates to more than the limit of ${target.maxFileBytes} bytes per file (${decoder.encoding}-compressed)`);
    }
    if (size > target.bytesLeft) {
      throw tooLarge(`the files of one submission are larger than the limit of ${target.maxTotalBytes} bytes in total (reached in ${name})`);
    }
    if (!head) {
      pending = Buffer.concat([pending, chunk.subarray(0, HEAD_BYTES - pending.length)]);
      if (pending.length >= HEAD_BYTES) head = readCaptureHead(pending);
      if (head && "refused" in head) throw notACapture(name, head.refused);
    }
    if (seen.linkType === undefined) {
      sniffed = Buffer.concat([sniffed, chunk.subarray(0, LINK_TYPE_SCAN_BYTES - sniffed.length)]);
      seen.linkType = linkTypeOf(sniffed, false);
    }
    yield chunk;
  }
  const { size } = seen;
  // Failing the source is what keeps the store from writing an empty object.
  if (size === 0 && target.emptyIsNothing) throw NOTHING;
  head ??= readCaptureHead(pending);
  if ("refused" in head) throw notACapture(name, head.refused);
  if (size < head.headerBytes) {
    const header = head.format === "pcapng" ? "pcapng section header" : "pcap file header";
    throw notACapture(name, `is cut off inside its ${header} (${size} of ${head.headerBytes} bytes)`);
  }
  seen.format = head.format;
  if (seen.linkType === undefined) seen.linkType = linkTypeOf(sniffed, true);
}

/**
 * Streams one uploaded file into the object store (pipelined, shared/objects/put-object.ts: the
 * store's digest is the capture's SHA-256) while checking it opens with a whole pcap or pcapng
 * file header, and holding it to the size limits. A gzip (or zstd) upload is inflated on the
 * way: the capture stored and analysed is the inflated one, every size limit applies to the
 * inflated bytes, and inflating more than `maxInflateRatio` times is refused (413) as the
 * decompression bomb it would be. Memory is bounded by the put's window and zlib's buffers; on
 * any failure, the time limit included, the partial object's chunks are purged and the error
 * rethrown. Null for an empty file when `emptyIsNothing`: then nothing was stored.
 */
export async function storeCapture(bucket: Bucket, file: Readable, target: CaptureTarget): Promise<StoredCapture | null> {
  const { object, name, signal } = target;
  signal.throwIfAborted();
  const decoder = new UploadDecoder(name);
  const seen: Seen = { size: 0 };
  const body = drained(file);
  // The parser stops passing bytes at `maxFileBytes` and says so with `limit`; the file then looks complete.
  file.once("limit", () => file.destroy(tooLarge(`${name} is larger than the limit of ${target.maxFileBytes} bytes per file`)));
  const onAbort = (): void => {
    file.destroy(signal.reason as Error);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  let sha256: string;
  try {
    // A new job's object name: nothing stored under it to replace.
    ({ sha256 } = await putObject(bucket, object, checked(decoder, body, target, seen), { fresh: true }));
  } catch (err) {
    if (err === NOTHING) return null;
    // Not the broker away (no 503, try again): the store takes nothing more until captures expire or are deleted.
    if (err instanceof PublishError && err.limit) throw new BrocapiError(ErrorCodes.STORE_FULL, `the capture store refused ${name} (${err.message}); nothing was stored`, { httpStatus: 507, cause: err });
    throw cutOff(err) ? uploadCutOff() : err;
  } finally {
    signal.removeEventListener("abort", onAbort);
    // A refusal leaves the rest of the file unread: the parser must not wait for it.
    if (!file.readableEnded) file.destroy();
  }
  const compressed = decoder.compressed();
  return { object, size: seen.size, sha256, format: seen.format!, linkType: seen.linkType ?? null, ...(compressed ? { compressed } : {}) };
}
