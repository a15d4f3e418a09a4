import type { JetStreamClient } from "@nats-io/jetstream";
import { batchLines, decodeBatch } from "../../shared/messages/log-batch.js";
import type { Names } from "../../shared/nats/names.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import { ZeekLogAssembler } from "../../shared/zeek/log-assembler.js";
import { TsvToJson } from "../../shared/zeek/tsv-to-json.js";

const LF = Buffer.from("\n");

/**
 * The bytes of one log of a job, read back from the LOGS stream in stream order: the same bytes
 * the directory sink writes (a Zeek TSV file, or JSON lines), or with `toJson` TSV converted to
 * Zeek's JSON. Streamed batch by batch; memory does not grow with the log.
 */
export async function* logBytes(js: JetStreamClient, names: Names, jobId: string, logType: string, opts: { toJson: boolean; untilSeq?: number }): AsyncGenerator<Uint8Array> {
  const { toJson, untilSeq = Infinity } = opts;
  const assembler = new ZeekLogAssembler();
  // One converter per header block: Zeek writes a new block only when the fields change.
  let converter = null as { fields: string; tsv: TsvToJson } | null;
  for await (const m of readSubject(js, names.logsStream, names.logSubject(logType, jobId))) {
    if (m.seq > untilSeq) break;
    const batch = decodeBatch(m.headers, m.data);
    if (!toJson || batch.format === "json" || !batch.zeekHeader) {
      yield Buffer.concat(assembler.parts(batch.payload, batch.zeekHeader));
      continue;
    }
    const fields = batch.zeekHeader.find((l) => l.startsWith("#fields")) ?? "";
    if (converter?.fields !== fields) converter = { fields, tsv: new TsvToJson(batch.zeekHeader) };
    const out: Uint8Array[] = [];
    for (const line of batchLines(batch.payload)) out.push(Buffer.from(converter.tsv.convert(line)), LF);
    yield Buffer.concat(out);
  }
}

/**
 * The byte length `logBytes` will produce (as stored, no conversion) up to the stream sequence
 * `lastSeq` it also returns, from headers alone: the server reports each payload's size in
 * `Nats-Msg-Size` and keeps the payloads. Lines published later (a running job) are not counted,
 * and `logBytes(…, { untilSeq: lastSeq })` leaves them out too.
 */
export async function logSize(js: JetStreamClient, names: Names, jobId: string, logType: string): Promise<{ bytes: number; lastSeq: number }> {
  const assembler = new ZeekLogAssembler();
  let bytes = 0;
  let lastSeq = 0;
  for await (const m of readSubject(js, names.logsStream, names.logSubject(logType, jobId), { headersOnly: true })) {
    const batch = decodeBatch(m.headers, m.data);
    bytes += assembler.size(Number(m.headers?.get("Nats-Msg-Size") ?? 0), batch.zeekHeader);
    lastSeq = m.seq;
  }
  return { bytes, lastSeq };
}
