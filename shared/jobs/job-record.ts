import { z } from "zod";

export const fileStates = ["queued", "running", "done", "failed"] as const;
export const jobStates = ["queued", "running", "done", "failed", "partial"] as const;
export type FileState = (typeof fileStates)[number];
export type JobState = (typeof jobStates)[number];

const fileRecord = z.object({
  index: z.number().int(),
  name: z.string(),
  object: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  /** Set when the upload was gzip/zstd-compressed: what was sent (size and sha256 above are the inflated capture's, analysed). */
  compressed: z.object({ encoding: z.enum(["gzip", "zstd"]), size: z.number().int(), sha256: z.string() }).optional(),
  state: z.enum(fileStates),
  attempts: z.number().int().default(0),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
  zeekExitCode: z.number().int().optional(),
  zeekStderr: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Lines published to the LOGS stream, per log type. */
  lines: z.record(z.string(), z.number().int()).default({}),
  /** Set when the logs were re-published from an earlier analysis of the same capture. */
  reusedFrom: z.object({ jobId: z.string(), fileIndex: z.number().int() }).optional(),
  /** Set when the capture was cut mid-packet and Zeek analysed it up to its last whole packet. */
  salvaged: z.object({ bytesKept: z.number().int(), packetsKept: z.number().int(), bytesDropped: z.number().int() }).optional(),
});

/** The job record kept in the jobs KV bucket under the job id. */
export const jobRecordSchema = z.object({
  id: z.uuid(),
  tag: z.string().nullable(),
  state: z.enum(jobStates),
  format: z.enum(["tsv", "json"]),
  submittedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  files: z.array(fileRecord),
});

export type FileRecord = z.infer<typeof fileRecord>;
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** A job's state follows from its files: final once every file is, `partial` when some failed. */
export function deriveJobState(files: readonly FileRecord[]): JobState {
  const done = files.filter((f) => f.state === "done").length;
  const failed = files.filter((f) => f.state === "failed").length;
  if (done + failed < files.length) return files.some((f) => f.state !== "queued") ? "running" : "queued";
  if (failed === 0) return "done";
  return done === 0 ? "failed" : "partial";
}

export function isFinal(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "partial";
}
