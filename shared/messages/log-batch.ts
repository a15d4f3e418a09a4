import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";

/** Header names of a LOGS message; documented in docs/ARCHITECTURE.md. */
export const LogHeaders = {
  job: "Brocapi-Job",
  tag: "Brocapi-Tag",
  pcap: "Brocapi-Pcap",
  pcapIndex: "Brocapi-Pcap-Index",
  log: "Brocapi-Log",
  format: "Brocapi-Format",
  firstLine: "Brocapi-First-Line",
  lineCount: "Brocapi-Line-Count",
  zeekHeader: "Brocapi-Zeek-Header",
  shard: "Brocapi-Shard",
} as const;

export type LogFormat = "tsv" | "json";

/** What every batch says about where its lines came from. */
export interface BatchOrigin {
  jobId: string;
  tag: string | null;
  pcap: string;
  pcapIndex: number;
  logType: string;
  format: LogFormat;
  /** TSV only: Zeek's `#separator` … `#types` lines, so any sink can rebuild a valid Zeek file. */
  zeekHeader: readonly string[] | null;
  /** Set when the lines come from one shard of a sharded capture: their line numbers are that shard's. */
  shard?: { index: number; count: number } | undefined;
}

/** A batch of consecutive lines of one log of one capture (or shard): `firstLine` is the 1-based data line number. */
export interface LogBatch extends BatchOrigin {
  firstLine: number;
  lineCount: number;
  /** The lines joined by LF, without a trailing LF (a Zeek line never holds a raw LF). */
  payload: Uint8Array;
}

/** Makes a header value of arbitrary text: header values cannot hold CR or LF. */
const encodeText = (s: string): string => encodeURIComponent(s);

/** Builds the message headers shared by the batches of one log, before the per-batch fields. */
export function batchHeaders(batch: Omit<LogBatch, "payload">): MsgHdrs {
  const h = natsHeaders();
  h.set(LogHeaders.job, batch.jobId);
  if (batch.tag !== null) h.set(LogHeaders.tag, encodeText(batch.tag));
  h.set(LogHeaders.pcap, encodeText(batch.pcap));
  h.set(LogHeaders.pcapIndex, String(batch.pcapIndex));
  h.set(LogHeaders.log, batch.logType);
  h.set(LogHeaders.format, batch.format);
  h.set(LogHeaders.firstLine, String(batch.firstLine));
  h.set(LogHeaders.lineCount, String(batch.lineCount));
  if (batch.zeekHeader) h.set(LogHeaders.zeekHeader, JSON.stringify(batch.zeekHeader));
  if (batch.shard) h.set(LogHeaders.shard, `${batch.shard.index}/${batch.shard.count}`);
  return h;
}

/**
 * Where a batch's line numbers count from: the capture (`3`), or one shard of it (`3.1`), whose
 * lines are numbered on their own. With the log type and first line it names a batch.
 */
export function batchSource(b: Pick<LogBatch, "pcapIndex" | "shard">): string {
  return b.shard ? `${b.pcapIndex}.${b.shard.index}` : String(b.pcapIndex);
}

/** Msg id of a batch: a retried worker republishes the same ids and the stream drops them. */
export function batchMsgId(b: Pick<LogBatch, "jobId" | "pcapIndex" | "shard" | "logType" | "firstLine">): string {
  return `log:${b.jobId}:${batchSource(b)}:${b.logType}:${b.firstLine}`;
}

const SHARD = /^(\d+)\/(\d+)$/;

export class MalformedBatchError extends Error {
  override readonly name = "MalformedBatchError";
}

/**
 * Reads a LOGS message back into a batch. Any header that is missing or does not parse throws
 * MalformedBatchError: a consumer terminates such a message rather than meeting it forever.
 */
export function decodeBatch(hdrs: MsgHdrs | undefined, payload: Uint8Array): LogBatch {
  const get = (name: string): string => {
    const v = hdrs?.get(name);
    if (!v) throw new MalformedBatchError(`LOGS message without ${name}`);
    return v;
  };
  const count = (name: string, min: number): number => {
    const n = Number(get(name));
    if (!Number.isInteger(n) || n < min) throw new MalformedBatchError(`LOGS message with ${name} ${get(name)}`);
    return n;
  };
  const tag = hdrs?.get(LogHeaders.tag);
  const zeekHeader = hdrs?.get(LogHeaders.zeekHeader);
  const shardText = hdrs?.get(LogHeaders.shard);
  const shard = shardText ? SHARD.exec(shardText) : null;
  if (shardText && (!shard || Number(shard[1]) >= Number(shard[2]))) throw new MalformedBatchError(`LOGS message with ${LogHeaders.shard} ${shardText}`);
  const format = get(LogHeaders.format);
  if (format !== "tsv" && format !== "json") throw new MalformedBatchError(`unknown log format ${format}`);
  try {
    return {
      jobId: get(LogHeaders.job),
      tag: tag ? decodeURIComponent(tag) : null,
      pcap: decodeURIComponent(get(LogHeaders.pcap)),
      pcapIndex: count(LogHeaders.pcapIndex, 0),
      logType: get(LogHeaders.log),
      format,
      firstLine: count(LogHeaders.firstLine, 1),
      lineCount: count(LogHeaders.lineCount, 1),
      zeekHeader: zeekHeader ? (JSON.parse(zeekHeader) as string[]) : null,
      ...(shard ? { shard: { index: Number(shard[1]), count: Number(shard[2]) } } : {}),
      payload,
    };
  } catch (err) {
    // decodeURIComponent (URIError) and JSON.parse (SyntaxError) fail on text that was not ours.
    throw err instanceof MalformedBatchError ? err : new MalformedBatchError(`LOGS message with an unreadable header: ${(err as Error).message}`);
  }
}

/** Splits a batch's payload into its lines (without LF). */
export function* batchLines(payload: Uint8Array): Generator<Uint8Array> {
  let start = 0;
  for (;;) {
    const end = payload.indexOf(10, start);
    if (end === -1) {
      yield payload.subarray(start);
      return;
    }
    yield payload.subarray(start, end);
    start = end + 1;
  }
}
