import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeBatch } from "../../shared/messages/log-batch.js";
import { INDEX_FILE, keyOf } from "../../services/shipper/sinks/directory/delivered-index.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import type { ClusterEnv } from "./cluster-env.js";

/**
 * Where a job's missing conn lines went, for a failure message: the conn batches the LOGS
 * stream holds (to the stream leader's tail), the batches the
 * directory sink's index says it wrote, those in the stream but not written (with their stream
 * sequences), and the directory consumer's state. Tells a batch never stored (publish side)
 * from one stored but never delivered (consumer side).
 */
export interface MissingBatches {
  storedBatches: number;
  storedLines: number;
  writtenBatches: number;
  storedNotWritten: Array<{ seq: number; key: string; lines: number }>;
  writtenNotStored: string[];
  consumer: { delivered: { stream_seq: number }; ackFloor: { stream_seq: number }; redelivered: number; leader?: string };
  stream: { first: number; last: number; messages: number; leader?: string };
}

export async function missingBatches(env: ClusterEnv, jobId: string): Promise<MissingBatches | null> {
  const written = new Set(
    (await readFile(join(env.logDir, jobId, INDEX_FILE), "utf8").catch(() => ""))
      .split("\n")
      .filter((l) => l.includes(" conn "))
      .map((l) => l.split(" ").slice(0, 3).join(" ")),
  );
  return env.cluster.withJsm(async (jsm) => {
    const stream = env.names.logsStream;
    const subject = env.names.logSubject("conn", jobId);
    // readSubject ends at the stream leader's tail: a replica that is behind cannot hide a batch.
    const stored: Array<{ seq: number; key: string; lines: number }> = [];
    for await (const m of readSubject(jsm, stream, subject)) {
      const b = decodeBatch(m.header, m.data);
      stored.push({ seq: m.seq, key: keyOf(b), lines: b.lineCount });
    }
    const consumer = await jsm.consumers.info(stream, env.names.sinkConsumer("directory"));
    const info = await jsm.streams.info(stream);
    return {
      storedBatches: stored.length,
      storedLines: stored.reduce((n, s) => n + s.lines, 0),
      writtenBatches: written.size,
      storedNotWritten: stored.filter((s) => !written.has(s.key)),
      writtenNotStored: [...written].filter((k) => !stored.some((s) => s.key === k)),
      consumer: { delivered: consumer.delivered, ackFloor: consumer.ack_floor, redelivered: consumer.num_redelivered, leader: consumer.cluster?.leader },
      stream: { first: info.state.first_seq, last: info.state.last_seq, messages: info.state.messages, leader: info.cluster?.leader },
    };
  });
}

/**
 * Whether the directory's shortfall is exactly nats-server 2.9's replicated-consumer skip
 * (nats-server#6566, fixed in 2.11): every missing line is in batches the stream holds, which the
 * sink never began to write (not in its index), all below the consumer's ack floor, so the
 * consumer counts them acknowledged though no delivery of them reached the sink; nothing
 * doubled, nothing malformed, nothing written that the stream lacks. Any other shortfall is not.
 */
export function consumerSkipped(b: MissingBatches | null, got: { missing: number; duplicates: number; malformed: number; headerBlocks: number }, published: number): boolean {
  if (!b || b.storedNotWritten.length === 0 || b.writtenNotStored.length > 0) return false;
  if (got.duplicates !== 0 || got.malformed !== 0 || got.headerBlocks !== 1 || b.storedLines !== published) return false;
  const skippedLines = b.storedNotWritten.reduce((n, s) => n + s.lines, 0);
  return skippedLines === got.missing && b.storedNotWritten.every((s) => s.seq <= b.consumer.ackFloor.stream_seq);
}
