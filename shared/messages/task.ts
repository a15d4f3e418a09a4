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
  /** Merge mode: the job's only task (a sharded recording: one per shard), on capture 0; its analysis reads all `files` captures of the job as one recording. */
  merge: z.literal(true).optional(),
  /** Set on a sharded capture's tasks, one per shard: analyse only shard `index` of `count` (docs/SHARDING.md). */
  shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(2) }).optional(),
});

export type Task = z.infer<typeof taskSchema>;

/** Re-publishing the same task (an API retry) is dropped by the server inside its duplicate window; a task put back is a new round; each shard of a sharded capture is its own task. */
export function taskMsgId(task: Pick<Task, "jobId" | "fileIndex" | "round" | "shard">): string {
  return `task:${task.jobId}:${task.fileIndex}${task.shard ? `:${task.shard.index}/${task.shard.count}` : ""}${task.round ? `:${task.round}` : ""}`;
}
