import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { batchHeaders, batchMsgId, decodeBatch, type BatchOrigin } from "../../shared/messages/log-batch.js";
import type { Names } from "../../shared/nats/names.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import type { Salvage } from "../../shared/pcap/whole-packets.js";
import { PublishWindow } from "../../shared/messages/publish-window.js";
import { profileArgs, type ZeekProfile } from "../../shared/config/zeek-profile.js";

/** A finished analysis, found by the capture's SHA-256 and what produced the logs. */
export interface PastAnalysis {
  jobId: string;
  fileIndex: number;
  lines: Record<string, number>;
  /** The capture was cut mid-packet and only its whole packets were analysed: a reuse says so too. */
  salvaged?: Salvage;
}

/**
 * Key of an analysis: the capture's SHA-256 plus a digest of Zeek's version, the job's profile
 * (its exact arguments: scripts, then options in order), the format and the skip list. Any of
 * those changing means the logs would differ; two profile names with the same arguments share
 * analyses, and a profile whose scripts were changed in the config does not reuse its old ones.
 */
export function analysisKey(sha256: string, parts: { zeekVersion: string; profile: Pick<ZeekProfile, "scripts" | "options">; format: string; skipped: Iterable<string> }): string {
  const recipe = JSON.stringify([parts.zeekVersion, profileArgs(parts.profile), parts.format, [...parts.skipped].sort()]);
  return `${sha256}.${createHash("sha256").update(recipe).digest("hex").slice(0, 16)}`;
}

export async function findAnalysis(kv: KV, key: string): Promise<PastAnalysis | null> {
  const entry = await kv.get(key);
  return entry?.operation === "PUT" ? (entry.json() as PastAnalysis) : null;
}

export async function recordAnalysis(kv: KV, key: string, analysis: PastAnalysis): Promise<void> {
  await kv.put(key, JSON.stringify(analysis));
}

const sum = (lines: Record<string, number>): number => Object.values(lines).reduce((a, b) => a + b, 0);

/**
 * Re-publishes the batches an earlier job published for one capture as batches of the new job
 * (its id, tag, name and index; same line numbers). Returns the lines per type, or null when the
 * LOGS stream no longer holds all of them (retention): then Zeek has to run again.
 */
export async function republishAnalysis(js: JetStreamClient, jsm: JetStreamManager, names: Names, past: PastAnalysis, origin: Omit<BatchOrigin, "logType" | "zeekHeader">, window: number): Promise<Record<string, number> | null> {
  const subject = names.logsOfJob(past.jobId);
  const held: Record<string, number> = {};
  for await (const m of readSubject(jsm, names.logsStream, subject)) {
    const b = decodeBatch(m.header, m.data);
    if (b.pcapIndex === past.fileIndex) held[b.logType] = (held[b.logType] ?? 0) + b.lineCount;
  }
  const complete = Object.entries(past.lines).every(([type, n]) => held[type] === n) && sum(held) === sum(past.lines);
  if (!complete) return null;
  const publisher = new PublishWindow(js, window);
  for await (const m of readSubject(jsm, names.logsStream, subject)) {
    const old = decodeBatch(m.header, m.data);
    if (old.pcapIndex !== past.fileIndex) continue;
    const meta = { ...origin, logType: old.logType, zeekHeader: old.zeekHeader, firstLine: old.firstLine, lineCount: old.lineCount };
    await publisher.publish(names.logSubject(old.logType, origin.jobId), old.payload, { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
  }
  await publisher.drain();
  return held;
}
