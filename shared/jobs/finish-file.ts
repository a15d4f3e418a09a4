import type { Logger } from "pino";
import type { JobEvents } from "../events/job-events.js";
import { metrics } from "../metrics/registry.js";
import type { FileRecord, JobState } from "./job-record.js";
import type { JobStore } from "./job-store.js";

/**
 * Announces that a job ended: `job.finished` (stored, or this throws), then, in the api, the job
 * leaves the set of unfinished jobs. Until both happened the reconciler finds the job there and
 * calls this again; the event's msg id keeps a repeat inside the duplicate window from being
 * stored twice. A worker leaves the job in the set (JobIndex.removesMarkers): the reconciler
 * announces it again once its grace is over (a repeat, within the window) and removes it.
 */
export async function announceFinished(jobs: JobStore, events: JobEvents, jobId: string, state: JobState): Promise<void> {
  await events.publishOrThrow(jobId, { type: "job.finished", state }, `finished:${jobId}`);
  if (jobs.index.removesMarkers) await jobs.index.unmarkActive(jobId);
}

/**
 * Records a capture's final state, then announces it: `file.finished`, and `job.finished` from
 * the one update that made the job final. Used by workers and the reconciler. A capture already
 * final is left as it is (its shard is brought up to date). An announcement that fails is left
 * to the reconciler rather than failing the capture's work.
 */
export async function finishFile(
  jobs: JobStore,
  events: JobEvents,
  log: Logger,
  jobId: string,
  fileIndex: number,
  change: (f: FileRecord) => void,
  files?: number,
  recorded?: () => void | Promise<void>,
): Promise<{ file: FileRecord; changed: boolean }> {
  // file.finished is published between the capture's write and its shard's, so when it is stored
  // it is before any job.finished (a follower stops reading there); a publish that fails is
  // logged and not repeated, as every lifecycle event (JobEvents.publish).
  const announce = (file: FileRecord): Promise<void> =>
    events.publish(jobId, {
      type: "file.finished",
      fileIndex: file.index,
      name: file.name,
      state: file.state,
      lines: file.lines,
      ...(file.error ? { error: file.error } : {}),
      ...(file.reusedFrom ? { reused: true } : {}),
    });
  const { file, wasFinal, finishedNow, summary } = await jobs.updateCapture(jobId, fileIndex, change, { files, changed: announce, recorded });
  if (finishedNow && summary) {
    metrics.jobsFinished.inc({ state: summary.state });
    await announceFinished(jobs, events, jobId, summary.state).catch((err: unknown) =>
      log.warn({ event: "job.announce_failed", job: jobId, err: (err as Error).message }, "job.finished not published; the reconciler will"),
    );
  }
  return { file, changed: !wasFinal };
}
