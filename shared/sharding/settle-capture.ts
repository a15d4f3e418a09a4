import { inWindows } from "../concurrency/in-windows.js";
import { isFileFinal, type FileRecord } from "../jobs/job-record.js";
import { finishShardedCapture, type CaptureEnd } from "./finish-sharded-capture.js";
import { isFinalChar, type ShardRecord } from "./shard-record.js";
import { gone } from "./shard-store.js";

/** Shard records read at once when a capture is settled from all of them. */
const READ_WINDOW = 64;

/** Which capture; `files` is the job's capture count when the caller knows it (tasks carry it). */
export interface CaptureAt {
  jobId: string;
  fileIndex: number;
  files?: number | undefined;
}

/**
 * Brings a sharded capture up to date with its shards' own records, and ends it once every shard
 * is final (`finishShardedCapture`). `shard` is the record of the shard that just ended; null
 * reads every shard the capture does not know as final yet (a redelivered task whose shard was
 * final, the reconciler). Idempotent: a shard is added to the capture once, the end is written
 * once, and a compare-and-set that lost to another writer is read again, never taken for a
 * failure — so whoever comes last (the worker of the last shard, a redelivery, the reconciler)
 * ends the capture from the same records. `settle` runs once the capture's end is recorded (or
 * at once when there is nothing to end). Throws JOB_NOT_FOUND (permanent) for a deleted job.
 * Returns the capture as recorded before its end.
 */
export async function settleCapture(end: CaptureEnd, at: CaptureAt, shard: ShardRecord | null, settle?: () => void): Promise<FileRecord> {
  const capture = await end.jobs.capture(at.jobId, at.fileIndex);
  if (!capture) throw gone(at.jobId, at.fileIndex);
  if (!capture.shards || isFileFinal(capture.state)) {
    settle?.();
    return capture;
  }
  const { count, states } = capture.shards;
  const open = [...Array(count).keys()].filter((k) => !isFinalChar(states[k]));
  const records = shard ? [shard] : await inWindows(open, READ_WINDOW, (index) => end.shards.shard({ ...at, shard: { index, count } }));
  const recorded = await end.shards.record(at.jobId, at.fileIndex, records);
  await finishShardedCapture(end, at.jobId, at.fileIndex, at.files, settle);
  return recorded;
}
