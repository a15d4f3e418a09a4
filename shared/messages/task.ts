import { z } from "zod";

/** One uploaded capture to analyse; published once per file on the tasks work queue. */
export const taskSchema = z.object({
  jobId: z.uuid(),
  tag: z.string().nullable(),
  fileIndex: z.number().int().min(0),
  fileName: z.string(),
  /** Name of the capture in the PCAP object store bucket. */
  object: z.string(),
  size: z.number().int().min(0),
  sha256: z.string(),
  /** Captures in the job: where this capture's state is summed (absent in tasks of older versions). */
  files: z.number().int().min(1).optional(),
  /** The job's analysis profile (`zeek.profiles`); absent: `default` (and in tasks of older versions). */
  profile: z.string().optional(),
  /** Times the reconciler put it back after NATS gave it up without a worker having run it to the end (absent: never). */
  round: z.number().int().min(1).optional(),
  /** Merge mode: the job's only task, on capture 0; its analysis reads all `files` captures of the job as one recording. */
  merge: z.literal(true).optional(),
});

export type Task = z.infer<typeof taskSchema>;

/** Re-publishing the same task (an API retry) is dropped by the server inside its duplicate window; a task put back is a new round. */
export function taskMsgId(task: Pick<Task, "jobId" | "fileIndex" | "round">): string {
  return `task:${task.jobId}:${task.fileIndex}${task.round ? `:${task.round}` : ""}`;
}
