import type { Logger } from "pino";
import type { JobEvents } from "../events/job-events.js";
import type { Task } from "../messages/task.js";
import { finishFile } from "./finish-file.js";
import type { FileRecord } from "./job-record.js";
import { inWindows, type JobStore } from "./job-store.js";

/** Merge mode: captures of the recording whose end is recorded at once. */
const MERGE_FINISH_WINDOW = 32;

/**
 * Records the end of an unsharded capture's task, by whoever ends it (the worker that ran it, the
 * reconciler that gave it up). In merge mode the task is the whole recording: its other captures
 * end first, with the same state and error but no lines or Zeek output of their own (capture 0
 * carries them); if this stops between, the task is still queued and capture 0, not yet final,
 * is ended again. `recorded` runs once capture 0's end is stored (finishFile).
 */
export async function finishRecording(
  jobs: JobStore,
  events: JobEvents,
  log: Logger,
  task: Pick<Task, "jobId" | "fileIndex" | "files" | "merge">,
  change: (f: FileRecord) => void,
  recorded?: () => void | Promise<void>,
): Promise<{ file: FileRecord; changed: boolean }> {
  if (task.merge) {
    const parts = Array.from({ length: (task.files ?? 1) - 1 }, (_, i) => i + 1);
    await inWindows(parts, MERGE_FINISH_WINDOW, (index) =>
      finishFile(jobs, events, log, task.jobId, index, (f) => {
        change(f);
        f.lines = {};
        f.mergedInto = task.fileIndex;
        for (const own of ["zeekStderr", "zeekExitCode", "salvaged", "reusedFrom"] as const) delete f[own];
      }, task.files),
    );
  }
  return finishFile(jobs, events, log, task.jobId, task.fileIndex, change, task.files, recorded);
}
