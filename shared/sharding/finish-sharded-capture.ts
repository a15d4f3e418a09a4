import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { ErrorCodes } from "../errors.js";
import type { JobEvents } from "../events/job-events.js";
import { finishRecording } from "../jobs/finish-recording.js";
import { isFileFinal } from "../jobs/job-record.js";
import type { JobStore } from "../jobs/job-store.js";
import { batchHeaders, batchMsgId, type BatchOrigin } from "../messages/log-batch.js";
import { PublishWindow } from "../messages/publish-window.js";
import type { Names } from "../nats/names.js";
import { mergeHostLogs, type HostLogs } from "./host-logs.js";
import { allShardsFinal } from "./shard-record.js";
import type { ShardStore } from "./shard-store.js";

export interface CaptureEnd {
  jobs: JobStore;
  shards: ShardStore;
  events: JobEvents;
  js: JetStreamClient;
  names: Names;
  log: Logger;
  batchLines: number;
  window: number;
}

/** Publishes merged per-host lines as the capture's own batches (numbered from 1, no shard). */
async function publishMerged(end: CaptureEnd, origin: Omit<BatchOrigin, "logType" | "zeekHeader">, logs: HostLogs): Promise<Record<string, number>> {
  const window = new PublishWindow(end.js, end.window);
  const counts: Record<string, number> = {};
  for (const [logType, log] of Object.entries(logs)) {
    counts[logType] = log.lines.length;
    for (let first = 0; first < log.lines.length; first += end.batchLines) {
      const lines = log.lines.slice(first, first + end.batchLines);
      const meta = { ...origin, logType, zeekHeader: log.header, firstLine: first + 1, lineCount: lines.length };
      await window.publish(end.names.logSubject(logType, origin.jobId), Buffer.from(lines.join("\n")), { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
    }
  }
  await window.drain();
  return counts;
}

/**
 * Ends a sharded capture once every shard is final: the per-host logs its shards kept are merged
 * (as Zeek would have logged them once) and published as the capture's, then the capture is
 * recorded `done` — or `failed` when a shard failed, with that shard's error, exit code and stderr
 * (the other shards' lines are delivered and counted). Called by the worker whose shard ended last
 * and by the reconciler; safe to repeat: the same shard records give the same batches (same msg
 * ids), and the capture's final state is written once. In merge mode the capture is the recording's
 * capture 0, and the recording ends as an unsharded one does (finishRecording: captures 1..N-1
 * first, `mergedInto: 0`). `settle` runs once capture 0's end is recorded.
 */
export async function finishShardedCapture(end: CaptureEnd, jobId: string, fileIndex: number, files: number | undefined, settle?: () => void): Promise<void> {
  const capture = await end.jobs.capture(jobId, fileIndex);
  if (!capture?.shards || isFileFinal(capture.state) || !allShardsFinal(capture.shards.states)) {
    settle?.();
    return;
  }
  const header = await end.jobs.header(jobId);
  if (!header) {
    settle?.();
    return;
  }
  const records = await end.shards.shards(jobId, fileIndex, capture.shards.count);
  const done = records.filter((r) => r.state === "done");
  const merged = mergeHostLogs(header.format, await Promise.all(done.map((r) => end.shards.hostLogs(jobId, fileIndex, r))));
  const origin = { jobId, tag: header.tag, pcap: capture.name, pcapIndex: fileIndex, format: header.format };
  const hostLines = await publishMerged(end, origin, merged);
  const failed = records.find((r) => r.state === "failed");
  const salvaged = records.find((r) => r.salvaged)?.salvaged;
  const finishedAt = new Date();
  // A sharded recording (merge mode) is capture 0's shards: its other captures end with it.
  await finishRecording(
    end.jobs,
    end.events,
    end.log,
    { jobId, fileIndex, files: files ?? header.files, ...(header.merge ? { merge: true as const } : {}) },
    (f) => {
      f.state = failed ? "failed" : "done";
      for (const [type, n] of Object.entries(hostLines)) f.lines[type] = (f.lines[type] ?? 0) + n;
      f.finishedAt = finishedAt.toISOString();
      if (f.startedAt) f.durationMs = finishedAt.getTime() - Date.parse(f.startedAt);
      if (salvaged) f.salvaged = salvaged;
      if (failed) {
        f.error = { code: ErrorCodes.SHARD_FAILED, message: `shard ${failed.index} of ${failed.count} failed: ${failed.error?.message ?? "no reason recorded"}` };
        if (failed.zeekExitCode !== undefined) f.zeekExitCode = failed.zeekExitCode;
        if (failed.zeekStderr) f.zeekStderr = failed.zeekStderr;
      } else {
        f.zeekExitCode = 0;
        const stderr = records.map((r) => r.zeekStderr).find((s) => s);
        if (stderr) f.zeekStderr = stderr;
        delete f.error;
      }
    },
    settle,
  );
  await Promise.all(done.map((r) => end.shards.dropHostLogs(jobId, fileIndex, r)));
}
