import { batchLines, type LogBatch } from "../../../shared/messages/log-batch.js";

/** Where a line came from, as `"brocapi":{…}` in every JSON line the JSON-speaking sinks send. */
export function envelopeJson(batch: LogBatch): string {
  return `"brocapi":${JSON.stringify({ job: batch.jobId, tag: batch.tag, capture: batch.pcap, captureIndex: batch.pcapIndex, log: batch.logType })}`;
}

/**
 * Each line of a batch as one JSON object text with the envelope first: a JSON line keeps Zeek's
 * fields beside `brocapi`; a line as Zeek wrote it (TSV) goes in `line`.
 */
export function* envelopedLines(batch: LogBatch): Generator<string> {
  const env = envelopeJson(batch);
  for (const raw of batchLines(batch.payload)) {
    const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
    if (batch.format === "json") yield text.length > 2 ? `{${env},${text.slice(1)}` : `{${env}}`;
    else yield `{${env},"line":${JSON.stringify(text)}}`;
  }
}

/** The `ts` of a Zeek JSON line (epoch seconds, or ISO 8601 with `LogAscii::json_timestamps`), in ms; null when absent. */
export function lineTimeMs(json: string): number | null {
  const m = /"ts":(?:(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)|"([^"]+)")/.exec(json);
  if (!m) return null;
  const ms = m[1] !== undefined ? Number(m[1]) * 1000 : Date.parse(m[2]!);
  return Number.isFinite(ms) ? ms : null;
}
