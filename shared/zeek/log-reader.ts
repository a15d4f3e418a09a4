import { createReadStream } from "node:fs";
import type { LogFormat } from "../messages/log-batch.js";

/** Consecutive data lines of one Zeek log, ready to publish. */
export interface LineBatch {
  /** TSV: the header block in force for these lines; JSON: null. */
  header: readonly string[] | null;
  /** 1-based number of the first data line in the log. */
  firstLine: number;
  lineCount: number;
  /** Lines joined by LF, no trailing LF. */
  payload: Buffer;
}

const LF = 0x0a;
const HASH = 0x23;
const NEWLINE = Buffer.from("\n");

/**
 * Streams a Zeek log file (TSV or JSON) as batches of at most `batchLines` data lines, so memory
 * stays flat however large the log. For TSV the `#separator`…`#types` block travels with every
 * batch; a new block mid-file (Zeek writes one when fields change) starts a new batch; `#close`
 * and other comment lines are dropped.
 */
export async function* readZeekLog(path: string, format: LogFormat, batchLines: number): AsyncGenerator<LineBatch> {
  let header: string[] | null = null;
  let building: string[] | null = null;
  let parts: Buffer[] = [];
  let count = 0;
  let lineNo = 0;
  let carry: Buffer | null = null;

  const take = (): LineBatch => {
    const batch = { header, firstLine: lineNo - count + 1, lineCount: count, payload: Buffer.concat(parts) };
    parts = [];
    count = 0;
    return batch;
  };

  // Returns a batch when this line completes one.
  const onLine = (line: Buffer): LineBatch | null => {
    if (line.length === 0) return null;
    if (format === "tsv" && line[0] === HASH) {
      const text = line.toString("utf8");
      if (text.startsWith("#separator")) {
        const flushed = count > 0 ? take() : null;
        building = [text];
        return flushed;
      }
      if (building) {
        building.push(text);
        if (text.startsWith("#types")) {
          header = building;
          building = null;
        }
      }
      return null;
    }
    if (count > 0) parts.push(NEWLINE);
    parts.push(line);
    count++;
    lineNo++;
    return count >= batchLines ? take() : null;
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(LF); end !== -1; end = chunk.indexOf(LF, start)) {
      let line = chunk.subarray(start, end);
      if (carry) {
        line = Buffer.concat([carry, line]);
        carry = null;
      }
      start = end + 1;
      const batch = onLine(line);
      if (batch) yield batch;
    }
    if (start < chunk.length) {
      // Copy: the stream may reuse nothing, but a held subarray would pin the whole 1 MiB chunk.
      const rest = Buffer.from(chunk.subarray(start));
      carry = carry ? Buffer.concat([carry, rest]) : rest;
    }
  }
  if (carry) {
    const batch = onLine(carry);
    if (batch) yield batch;
  }
  if (count > 0) yield take();
}
