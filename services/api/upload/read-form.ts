import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import type { Config } from "../../../shared/config/schema.js";
import type { Bucket } from "../../../shared/objects/object-layout.js";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import { boundaryOf, FormDelimiters } from "./form-delimiters.js";
import { ReadAhead } from "./read-ahead.js";
import { inflatedName } from "./decompress.js";
import { parseMerge, parseProfile } from "./job-options.js";
import { safeFileName } from "./file-name.js";
import { storeCapture, type StoredCapture } from "./store-capture.js";
import type { UploadBody } from "./upload-body.js";
import { parseShards, type ShardsAsked } from "./shard-option.js";

/** Form fields besides files, and the largest: a tag of 64 KiB is more than any syslog takes. */
export const MAX_FIELDS = 32;
export const MAX_FIELD_BYTES = 64 * 1024;

const FILE_FIELDS = new Set(["file[]", "file"]);
/** How many reasons for ignored parts a "no pcaps supplied" answer names at most. */
const MAX_HINTS = 3;

export interface StoredFile extends StoredCapture {
  name: string;
}

/** What a submission's form holds; filled as it is read, so a caller can undo a partial read. */
export interface Submission {
  tag: string | null;
  /** `profile=`, checked against `zeek.profiles`; null: the default profile. */
  profile: string | null;
  /** `merge=true`: the captures are one recording cut into files, analysed as one. */
  merge: boolean;
  /** The `shards` field: analyse each capture in shards (docs/SHARDING.md); null when absent. */
  shards: ShardsAsked | null;
  stored: StoredFile[];
  /** Why parts were ignored, for the answer when no capture is left. */
  ignored: Set<string>;
}

export interface FormTarget {
  bucket: Bucket;
  jobId: string;
  limits: Config["http"] & { maxShards: number };
  /** Throws when the tag may not be used (a token's tag scope): a tag sent before the files is refused before a byte is stored. */
  checkTag?: (tag: string) => void;
  /** The analysis profiles a job may choose (`zeek.profiles`). */
  profiles: readonly string[];
}

function malformed(message: string): UploadError {
  return new UploadError(ErrorCodes.UPLOAD_MALFORMED, `malformed multipart body: ${message}`, 400);
}

/** Reads and discards a part the submission does not use, so the parser can go on. */
async function discard(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

/** The answer when a form held no capture, with the reasons its parts were ignored. */
export function noFiles(submission: Submission): UploadError {
  const hints = [...submission.ignored].slice(0, MAX_HINTS).map((h) => `; ${h}`).join("");
  return new UploadError(ErrorCodes.UPLOAD_NO_FILES, `no pcaps supplied: send captures as file[] parts${hints}`, 400);
}

/**
 * Reads the multipart form of `POST /submit/pcap`: the `tag` field, and every `file[]` (or
 * `file`) part streamed into the object store as `<job>/<n>`. Every wait for the client is held
 * to the upload's time limit. Returns once the whole body has arrived and was a complete form.
 */
export async function readForm(req: FastifyRequest, body: UploadBody, submission: Submission, target: FormTarget): Promise<void> {
  const { maxFileBytes, maxTotalBytes } = target.limits;
  const parts = req.parts();
  // The first `next()` starts the parser reading the body; only then may the count listen to it.
  let next = parts.next();
  const boundary = boundaryOf(req.headers["content-type"]);
  const delimiters = boundary === null ? null : new FormDelimiters(req.raw, boundary);
  let storedBytes = 0;
  let partsRead = 0;
  // Without a boundary the parser fails at once: nothing to pace.
  const readAhead = delimiters && new ReadAhead(req.raw, () => delimiters.parts - partsRead);
  try {
    for (let step = await body.race(next); !step.done; step = await body.race(next)) {
      const part = step.value;
      partsRead++;
      if (part.type === "field") {
        if (part.fieldname === "tag") {
          if (part.valueTruncated) throw new UploadError(ErrorCodes.UPLOAD_TOO_LARGE, `the tag is longer than the limit of ${MAX_FIELD_BYTES} bytes`, 413);
          submission.tag = String(part.value);
          target.checkTag?.(submission.tag);
        } else if (part.fieldname === "profile") {
          submission.profile = parseProfile(String(part.value), target.profiles);
        } else if (part.fieldname === "merge") {
          submission.merge = parseMerge(String(part.value));
        } else if (part.fieldname === "shards") {
          submission.shards = parseShards(String(part.value), target.limits.maxShards);
        }
      } else if (!FILE_FIELDS.has(part.fieldname)) {
        submission.ignored.add(`a file part named ${JSON.stringify(part.fieldname.slice(0, 40))} was ignored: captures go in file[] or file`);
        await body.race(discard(part.file));
      } else {
        const index = submission.stored.length;
        const uploadName = safeFileName(part.filename, index);
        const capture = await storeCapture(target.bucket, part.file, {
          object: `${target.jobId}/${index}`,
          name: uploadName,
          maxFileBytes,
          maxTotalBytes,
          maxInflateRatio: target.limits.maxInflateRatio,
          bytesLeft: maxTotalBytes - storedBytes,
          signal: body.signal,
          // A browser form with no file chosen sends an empty, nameless part: not a capture, not an error.
          emptyIsNothing: part.filename === "",
        });
        if (capture) {
          // What is stored is the inflated capture: `x.pcap.gz` becomes `x.pcap`.
          const name = capture.compressed ? inflatedName(uploadName) : uploadName;
          submission.stored.push({ ...capture, name });
          storedBytes += capture.size;
          req.log.info({ event: "upload.stored", job: target.jobId, pcap: name, bytes: capture.size, sha256: capture.sha256, compressed: capture.compressed }, "capture stored");
        } else {
          submission.ignored.add(`a ${part.fieldname} part had neither a file name nor bytes (no file chosen)`);
        }
      }
      // @fastify/multipart keeps every part read in `part.fields`, by field name, until the request
      // ends: each file part with its stream and the stream's listeners. Nothing here reads
      // `fields`, so a part is let go once read (a heap snapshot 30 s into an upload of 10,000
      // captures: 62 MB instead of 108, and no longer 10,000 file streams kept).
      delete part.fields[part.fieldname];
      next = parts.next();
      readAhead?.asked(next);
    }
  } finally {
    readAhead?.stop();
  }
  await body.ended();
  // Without a boundary the parser itself has failed: nothing to count.
  if (!delimiters) return;
  if (!delimiters.closed) {
    throw malformed(`no closing boundary --${delimiters.boundary.slice(0, 70)}--: the body was cut short, or its parts use another boundary than its Content-Type names`);
  }
  if (partsRead < delimiters.parts) {
    const unread = delimiters.parts - partsRead;
    throw malformed(`${unread} of its ${delimiters.parts} parts could not be read (no form-data Content-Disposition, or a line break in a field or file name)`);
  }
}
