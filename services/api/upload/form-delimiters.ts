import type { Readable } from "node:stream";

const DASH = 0x2d;

/** The `boundary` parameter of a multipart Content-Type; null when there is none. */
export function boundaryOf(contentType: string | undefined): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return m?.[1] ?? m?.[2] ?? null;
}

/**
 * Counts the delimiter lines of a multipart body (CRLF `--<boundary>`) as the form parser reads
 * them: one per part, up to the close delimiter (the same followed by `--`). The parser ends
 * quietly when a body stops without a close delimiter, exactly as after a complete form, and it
 * drops a part whose headers it refuses (no form-data Content-Disposition, a line break in a
 * name) without a word; comparing its parts with these counts turns both into an answer.
 *
 * Attach it once the parser reads the body: a `data` listener added earlier would set the body
 * flowing before the parser sees it.
 */
export class FormDelimiters {
  /** Delimiter lines before the close delimiter: the parts of the form. */
  parts = 0;
  closed = false;

  constructor(
    body: Readable,
    readonly boundary: string,
  ) {
    const delimiter = Buffer.from(`\r\n--${boundary}`);
    const length = delimiter.length;
    // Bytes examined so far, and the last few of them: a delimiter can straddle two chunks, and
    // whether it closes the form shows only in the two bytes after it.
    // The parser reads a body as if a line break came first: a body may open with a delimiter.
    let window = Buffer.from("\r\n");
    let total = window.length;
    let examined = 0;
    /** Examines the delimiters in `buf` (starting at byte `start` of the body) that begin before `before`. */
    const scan = (buf: Buffer, start: number, before: number): void => {
      for (let i = buf.indexOf(delimiter, Math.max(0, examined - start)); i >= 0 && start + i < before; i = buf.indexOf(delimiter, i + length)) {
        // Not enough bytes yet to tell a part from the close: the next chunk's scan sees it again.
        if (i + length + 2 > buf.length) return;
        examined = start + i + length;
        if (buf[i + length] === DASH && buf[i + length + 1] === DASH) {
          this.closed = true;
          body.off("data", onData);
          return;
        }
        this.parts++;
      }
    };
    const onData = (chunk: Buffer): void => {
      const windowStart = total - window.length;
      scan(Buffer.concat([window, chunk.subarray(0, length + 1)]), windowStart, total);
      if (!this.closed) scan(chunk, total, Infinity);
      total += chunk.length;
      window = Buffer.from(Buffer.concat([window, chunk.subarray(-(length + 1))]).subarray(-(length + 1)));
    };
    body.on("data", onData);
  }
}
