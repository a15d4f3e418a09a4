import type { JetStreamManager } from "@nats-io/jetstream";
import { decodeBatch } from "../../shared/messages/log-batch.js";
import type { Names } from "../../shared/nats/names.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import { ZeekLogAssembler } from "../../shared/zeek/log-assembler.js";
import { BatchToJson } from "../../shared/zeek/batch-to-json.js";

const LF = Buffer.from("\n");

/**
 * The bytes of one log of a job, read back from the LOGS stream in stream order: the same bytes
 * the directory sink writes (a Zeek TSV file, or JSON lines), or with `toJson` TSV converted to
 * Zeek's JSON. Streamed batch by batch; memory does not grow with the log.
 */
export async function* logBytes(jsm: JetStreamManager, names: Names, jobId: string, logType: string, opts: { toJson: boolean; untilSeq?: number }): AsyncGenerator<Uint8Array> {
  const { toJson, untilSeq = Infinity } = opts;
  const assembler = new ZeekLogAssembler();
  const json = new BatchToJson();
  for await (const m of readSubject(jsm, names.logsStream, names.logSubject(logType, jobId))) {
    if (m.seq > untilSeq) break;
    const batch = decodeBatch(m.header, m.data);
    if (!toJson || batch.format === "json" || !batch.zeekHeader) {
      yield Buffer.concat(assembler.parts(batch.payload, batch.zeekHeader));
      continue;
    }
    yield Buffer.concat([json.payload(batch), LF]);
  }
}

/**
 * The byte length `logBytes` will produce (as stored, no conversion) up to the stream sequence
 * `lastSeq` it also returns. Lines published later (a running job) are not counted, and
 * `logBytes(…, { untilSeq: lastSeq })` leaves them out too.
 */
export async function logSize(jsm: JetStreamManager, names: Names, jobId: string, logType: string): Promise<{ bytes: number; lastSeq: number }> {
  const assembler = new ZeekLogAssembler();
  let bytes = 0;
  let lastSeq = 0;
  for await (const m of readSubject(jsm, names.logsStream, names.logSubject(logType, jobId))) {
    const batch = decodeBatch(m.header, m.data);
    bytes += assembler.size(m.data.length, batch.zeekHeader);
    lastSeq = m.seq;
  }
  return { bytes, lastSeq };
}
