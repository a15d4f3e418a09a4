import { z } from "zod";
import { fileStates, isFileFinal, isFinal, jobStates, type FileState, type JobState } from "./job-states.js";

export { fileStates, isFileFinal, isFinal, jobStates, type FileState, type JobState };

/** Who analysed a capture: what an operator of a multi-host install asks first. */
export const analysedBySchema = z.object({
  host: z.string().describe("Host name of the worker"),
  pid: z.number().int().describe("Process id of the worker"),
  worker: z.string().describe("The worker's name (`BROCAPI_WORKER_NAME`, default `<host>:<pid>`)"),
});

/** One capture of a job: its own key, `<job>.c.<index>`, written by whoever holds its task. */
export const fileRecordSchema = z.object({
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
  analysedBy: analysedBySchema.optional().describe("The worker of the last attempt"),
  mergedInto: z.number().int().optional().describe("Merge mode: analysed as part of the recording whose state, lines and Zeek output capture `mergedInto` (0) carries"),
  shards: z
    .object({
      count: z.number().int().min(2),
      states: z.string().describe("One character per shard: q(ueued), r(unning), d(one), f(ailed)"),
    })
    .optional()
    .describe("Set when the capture is analysed in shards: each shard's state; its details in `GET /jobs/{id}/captures/{index}/shards`"),
});

/**
 * What a sink instance's audit found (services/shipper/sink-audit.ts): once the job was final and
 * the instance's consumer had acked past its last line, the instance's count (lines, rejected and
 * replayed) stayed short of the lines its routing accepts. Written once per job and instance.
 */
export const sinkAuditSchema = z.object({
  missing: z.number().int().describe("Lines the routing accepts that the count lacked when the audit ran"),
  action: z.enum(["replay", "report"]).describe("`replay`: a replay of the job to this instance was queued automatically; `report`: left to an operator (`brocapi replay <job> --sink <name>`)"),
  at: z.string(),
});

/** Per job and sink instance, what was delivered: the sinks bucket's `<job id>.<sink name>`. */
export const sinkProgressSchema = z.object({
  /** Lines of the job this sink has delivered (acked on the LOGS stream). */
  lines: z.number().int(),
  /** Lines the destination refused for good (e.g. a mapping error): reported, not retried. */
  rejected: z.number().int().optional(),
  /** Lines delivered again by replays (`POST /jobs/:id/replay`), counted apart from `lines`. */
  replayed: z.number().int().optional(),
  lastError: z.string().optional(),
  lastErrorAt: z.string().optional(),
  audit: sinkAuditSchema.optional(),
  updatedAt: z.string(),
});

export const stateCountsSchema = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  running: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
});

/** What every shape of a job carries (its stored header, the old single record, the API's status). */
export const jobBaseSchema = z.object({
  id: z.uuid(),
  tag: z.string().nullable(),
  state: z.enum(jobStates),
  format: z.enum(["tsv", "json"]),
  submittedAt: z.string(),
  startedAt: z.string().optional().describe("When the job's first capture started"),
  finishedAt: z.string().optional().describe("When the job became final (its last capture ended); absent while it is queued or running"),
});

/**
 * The job's own key (`<job>`): written at submission and when the job starts and ends, never per
 * capture, so its size does not depend on the number of captures. While the job runs, counts and
 * lines come from the shards; the final ones are copied here by the update that ends the job.
 */
export const jobHeaderSchema = jobBaseSchema.extend({
  layout: z.literal(2),
  files: z.number().int().min(0),
  shards: z.number().int().min(0),
  profile: z.string().optional().describe("The analysis profile the job chose (`zeek.profiles`); absent in records from before profiles: `default`"),
  merge: z.boolean().optional().describe("Merge mode: the captures were analysed as one recording, in packet-time order"),
  /** What the submission asked for in its `shards` field (absent: not sharded). */
  analysisShards: z.union([z.literal("auto"), z.number().int().min(1)]).optional(),
  counts: stateCountsSchema.optional(),
  lines: z.record(z.string(), z.number().int()).optional(),
});

/** A job as the current layout's predecessor kept it: one value holding every capture. */
export const legacyJobRecordSchema = jobBaseSchema.extend({
  files: z.array(fileRecordSchema),
});

export type FileRecord = z.infer<typeof fileRecordSchema>;
export type JobHeader = z.infer<typeof jobHeaderSchema>;
export type StateCounts = z.infer<typeof stateCountsSchema>;
export type AnalysedBy = z.infer<typeof analysedBySchema>;

/** A job's state follows from its captures' counts: final once every capture is, `partial` when some failed. */
export function deriveJobState(c: StateCounts): JobState {
  if (c.done + c.failed < c.total) return c.queued === c.total ? "queued" : "running";
  if (c.failed === 0) return "done";
  return c.done === 0 ? "failed" : "partial";
}
