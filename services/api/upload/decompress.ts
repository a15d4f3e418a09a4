import { createHash, type Hash } from "node:crypto";
import { Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import { encodingOf, type Encoding } from "../../../shared/pcap/capture-format.js";

/** The upload as it arrived, when it was compressed: what the client sent, beside what is analysed. */
export interface Compressed {
  encoding: Encoding;
  size: number;
  sha256: string;
}

/** zstd arrived in node:zlib with Node 22.15 / 23.8; older Node cannot inflate it. */
type Inflater = () => Transform;
const zstd = (zlib as unknown as { createZstdDecompress?: Inflater }).createZstdDecompress;
const INFLATERS: Record<Encoding, Inflater | undefined> = { gzip: () => zlib.createGunzip(), zstd };

/** `x.pcap.gz` → `x.pcap`: the stored capture is the inflated one. */
export function inflatedName(name: string): string {
  const bare = name.replace(/\.(gz|gzip|zst|zstd)$/i, "");
  return bare === "" ? name : bare;
}

/** zlib's own words for a stream cut short, and everything else it refuses. */
function compressionError(name: string, encoding: Encoding, err: Error & { code?: string }): UploadError {
  if (err.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(err.message)) {
    return new UploadError(ErrorCodes.UPLOAD_BAD_COMPRESSION, `${name} is ${encoding}-compressed but cut short (${err.message}); nothing was kept`, 400);
  }
  return new UploadError(ErrorCodes.UPLOAD_BAD_COMPRESSION, `${name} is ${encoding}-compressed but its data is damaged (${err.message}); nothing was kept`, 415);
}

/**
 * Takes an upload from the client's bytes to the capture's: counts the bytes as sent, recognises
 * gzip (and zstd, where node:zlib has it) by its first bytes and inflates it while streaming;
 * anything else passes unchanged. The bytes as sent are hashed only when they turn out
 * compressed: a plain capture's SHA-256 is the store's digest, taken once there.
 * `compressed()` says afterwards what was sent, `uploadedBytes` how much so far (for the
 * inflation ratio).
 */
export class UploadDecoder {
  uploadedBytes = 0;
  encoding: Encoding | null = null;
  private readonly hash = createHash("sha256");

  constructor(private readonly name: string) {}

  /** The capture's bytes, inflated when the upload was compressed. */
  async *decode(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]();
    const first: Buffer[] = [];
    let head = Buffer.alloc(0);
    while (head.length < 4) {
      const step = await it.next();
      if (step.done) break;
      first.push(step.value);
      head = Buffer.concat([head, step.value]);
    }
    this.encoding = encodingOf(head);
    const sent = this.sent(it, first, this.encoding ? this.hash : null);
    if (!this.encoding) {
      yield* sent;
      return;
    }
    const inflater = INFLATERS[this.encoding];
    if (!inflater) {
      throw new UploadError(ErrorCodes.UPLOAD_NOT_A_CAPTURE, `${this.name} is ${this.encoding}-compressed, which this server's Node ${process.version} cannot decompress; decompress it first`, 415);
    }
    const inflate = inflater();
    const fed = pipeline(Readable.from(sent), inflate);
    fed.catch(() => undefined);
    try {
      for await (const chunk of inflate) yield chunk as Buffer;
      await fed;
    } catch (err) {
      if (err instanceof UploadError || !(err as { errno?: number }).errno) throw err;
      throw compressionError(this.name, this.encoding, err as Error);
    }
  }

  /**
   * The bytes as sent: `first`, then the rest of `it`, counted (and hashed when compressed). A
   * method, not a generator made per upload: a generator function made per file kept each file's
   * objects alive past V8's young generation (store-capture.ts, `checked`).
   */
  private async *sent(it: AsyncIterator<Buffer>, first: readonly Buffer[], hash: Hash | null): AsyncGenerator<Buffer> {
    try {
      for (const chunk of first) {
        this.uploadedBytes += chunk.length;
        hash?.update(chunk);
        yield chunk;
      }
      for (let step = await it.next(); !step.done; step = await it.next()) {
        this.uploadedBytes += step.value.length;
        hash?.update(step.value);
        yield step.value;
      }
    } finally {
      // Stopping early closes the source too.
      await it.return?.();
    }
  }

  /** After the upload: what was sent, when it was compressed. */
  compressed(): Compressed | undefined {
    return this.encoding ? { encoding: this.encoding, size: this.uploadedBytes, sha256: this.hash.digest("hex") } : undefined;
  }
}
