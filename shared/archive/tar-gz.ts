import { pipeline, type Readable } from "node:stream";
import { createGzip } from "node:zlib";

/** One regular file of the archive. */
export interface TarEntry {
  /** Path inside the archive (`<job>/conn.log`): at most 100 bytes of UTF-8, no NUL. */
  name: string;
  /** Exact byte count of `body`, known before the body is read: the header comes first. */
  size: number;
  /**
   * The file's bytes, read once, chunk by chunk, only when the archive reaches this entry. Chunks go
   * to gzip as they are: a chunk's memory must not be reused once yielded (streams never do).
   */
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Modification time; now when absent. */
  mtime?: Date;
}

/** An entry the archive cannot hold, or a body whose length is not the size its header announced. */
export class TarEntryError extends Error {
  override readonly name = "TarEntryError";
}

const BLOCK = 512;
/** Padding after a body and the two-block end-of-archive marker; never written to, so shared. */
const ZEROS = new Uint8Array(2 * BLOCK);
/** The largest number a 12-byte field's 11 octal digits hold: as a size, 8 GiB - 1. */
const MAX_OCTAL = 0o77777777777;

/**
 * Streams `entries` as a gzip-compressed POSIX ustar archive. Pull-driven: an entry is read from
 * `entries`, and its body chunk by chunk, only when gzip's consumer wants more bytes, so memory
 * holds a chunk or two whatever the file sizes, and a slow client slows the reading. Every chunk is
 * passed to gzip as it is, never copied or gathered.
 *
 * A failure (a TarEntryError, a body that throws) destroys the returned stream with that error:
 * the consumer sees 'error' after whatever was already sent. Destroying the returned stream (a
 * client went away) stops the reading and closes the iterator of the body being read.
 */
export function createTarGz(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): Readable {
  // The error reaches the consumer as the returned stream's 'error': pipeline destroys it with the error.
  return pipeline(tarBlocks(entries), createGzip(), () => {});
}

/** The uncompressed archive: per entry a header, the body, zero padding; then two zero blocks. */
async function* tarBlocks(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    yield header(entry);
    let written = 0;
    for await (const chunk of entry.body) {
      written += chunk.byteLength;
      // Checked before the chunk goes out, so a long body never runs into the next header.
      if (written > entry.size) throw new TarEntryError(`${entry.name}: body is longer than its size ${entry.size}`);
      yield chunk;
    }
    if (written < entry.size) throw new TarEntryError(`${entry.name}: body has ${written} bytes, its size says ${entry.size}`);
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (padding > 0) yield ZEROS.subarray(0, padding);
  }
  yield ZEROS;
}

/** The 512-byte ustar header of a regular file, mode 0644, owner 0:0. */
function header(entry: TarEntry): Buffer {
  const name = Buffer.from(entry.name, "utf8");
  if (name.length === 0 || name.length > 100 || name.includes(0)) {
    throw new TarEntryError(`tar entry name must be 1 to 100 bytes without NUL: ${JSON.stringify(entry.name)}`);
  }
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new TarEntryError(`${entry.name}: bad size ${entry.size}`);
  const mtime = Math.floor((entry.mtime ?? new Date()).getTime() / 1000);
  if (!(mtime >= 0 && mtime <= MAX_OCTAL)) throw new TarEntryError(`${entry.name}: mtime out of range`);

  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  // Larger sizes in GNU's base-256 form, which GNU tar, bsdtar and 7-Zip read.
  if (entry.size <= MAX_OCTAL) octal(h, 124, 12, entry.size);
  else base256(h, 124, 12, entry.size);
  octal(h, 136, 12, mtime);
  h.write("0", 156, "latin1"); // typeflag: regular file
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  // The checksum is the byte sum of the header with its own field read as eight spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  octal(h, 148, 7, sum); // six digits and a NUL; the eighth byte stays a space, as tar writes it
  return h;
}

/** `width - 1` zero-padded octal digits and a NUL, the way tar writes numeric fields. */
function octal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, "0")}\0`, offset, width, "latin1");
}

/** GNU tar's form for numbers too large for octal: high bit set, big-endian binary. */
function base256(h: Buffer, offset: number, width: number, value: number): void {
  let v = BigInt(value);
  for (let i = offset + width - 1; i > offset; i--, v >>= 8n) h[i] = Number(v & 0xffn);
  h[offset] = 0x80;
}
