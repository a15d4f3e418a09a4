import { batchLines, type LogBatch } from "../messages/log-batch.js";
import { TsvToJson } from "./tsv-to-json.js";

const LF = 10;
/** Header blocks whose converter is kept: one per (scripts, log type) in use, in practice. */
const KEEP = 64;

/**
 * Turns TSV batches into Zeek's JSON lines (`TsvToJson`), keeping a converter per header block:
 * blocks differ only when the fields do (another log type, other scripts), so the per-column
 * work is done once per block, not per batch. JSON batches pass through unchanged.
 */
export class BatchToJson {
  private readonly converters = new Map<string, TsvToJson>();

  private converter(header: readonly string[]): TsvToJson {
    // `#open` and `#path` vary per capture and log without changing how lines read.
    const key = header.filter((l) => !l.startsWith("#open") && !l.startsWith("#path")).join("\n");
    let c = this.converters.get(key);
    if (!c) {
      c = new TsvToJson(header);
      if (this.converters.size >= KEEP) this.converters.delete(this.converters.keys().next().value!);
      this.converters.set(key, c);
    }
    return c;
  }

  /** The batch's lines as JSON objects joined by LF (no trailing LF). Throws ZeekTsvError on a line TSV could not hold. */
  payload(batch: LogBatch): Uint8Array {
    if (batch.format === "json" || !batch.zeekHeader) return batch.payload;
    const tsv = this.converter(batch.zeekHeader);
    const out: string[] = [];
    for (const line of batchLines(batch.payload)) out.push(tsv.convert(line));
    return Buffer.from(out.join(String.fromCharCode(LF)));
  }

  /** The same batch with JSON lines: what a sink instance with `format: json` is handed. */
  batch(batch: LogBatch): LogBatch {
    if (batch.format === "json") return batch;
    return { ...batch, format: "json", zeekHeader: null, payload: this.payload(batch) };
  }
}
