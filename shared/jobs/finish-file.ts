import type { JobEvents } from "../events/job-events.js";
import { metrics } from "../metrics/registry.js";
import type { FileRecord, JobRecord } from "./job-record.js";
import type { JobStore } from "./job-store.js";

/**
 * Records a capture's final state, then announces it: `file.finished`, and `job.finished` from
 * the one update that made the job final. Used by workers and for tasks NATS gave up on.
 */
export async function finishFile(jobs: JobStore, events: JobEvents, jobId: string, fileIndex: number, change: (f: FileRecord) => void): Promise<JobRecord> {
  const { job, finishedNow } = await jobs.updateFile(jobId, fileIndex, change);
  const file = job.files[fileIndex]!;
  await events.publish(jobId, {
    type: "file.finished",
    fileIndex: file.index,
    name: file.name,
    state: file.state,
    lines: file.lines,
    ...(file.error ? { error: file.error } : {}),
    ...(file.reusedFrom ? { reused: true } : {}),
  });
  if (finishedNow) {
    metrics.jobsFinished.inc({ state: job.state });
    await events.publish(jobId, { type: "job.finished", state: job.state });
  }
  return job;
}
