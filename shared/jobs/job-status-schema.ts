// What the API answers about a job, as zod schemas that import nothing but zod, the record
// schemas and the sink presence's periods: the api validates and documents (OpenAPI) with them,
// and the CLI and the web page take their types from them (type-only imports, so neither loads
// any of this).
import { z } from "zod";
import { fileRecordSchema, jobBaseSchema, sinkProgressSchema, stateCountsSchema } from "./job-record.js";
import { LIVE_FOR_MS, SEEN_EVERY_MS } from "./sink-presence.js";

/** Captures `GET /jobs/:id` includes unless asked otherwise: the status of a big job stays cheap. */
export const FIRST_PAGE = 20;

/**
 * One sink instance in `GET /jobs/:id`: its record (or none yet), how many lines its routing takes
 * of the job, and whether it is running.
 */
export const sinkStatusSchema = sinkProgressSchema.extend({
  updatedAt: z
    .string()
    .optional()
    .describe(
      "When the instance last counted lines of the job. Absent: it has not reported the job yet; it is listed because it is running (or stopped recently: `running` false), delivers jobs from before this one's submission, and its routing accepts some of the job's lines (`lines` 0, `expected` what it owes); only while the job is younger than the LOGS stream keeps lines",
    ),
  expected: z
    .number()
    .int()
    .optional()
    .describe(
      "Lines of the job this instance's routing accepts (its log types and tags, as it last started), counted as its audit counts them: what `lines + rejected` reaches when it has everything so far. Absent while its routing is unknown (last started by a shipper that did not record it): then every published line",
    ),
  seenAt: z.string().optional().describe(`When a process of the instance last said it was running (each does every ${SEEN_EVERY_MS / 1000} s). Absent: unknown (last started by a shipper that did not record it)`),
  running: z
    .boolean()
    .optional()
    .describe(
      `Whether the instance was seen running within the last ${LIVE_FOR_MS / 1000} s. False: it stopped (or cannot reach NATS); what it owes the job waits in its consumer for its next start, and \`submit --wait\` and the web page do not wait for it. Absent: unknown, as \`seenAt\``,
    ),
});

/** What `GET /jobs/:id` answers: the summary (independent of the job's size) and the first page of captures. */
export const jobStatusSchema = jobBaseSchema.extend({
  profile: z.string().describe("The analysis profile: which of the configured Zeek script sets and options ran (`default` unless the job chose one)"),
  merge: z.boolean().describe("Merge mode: the captures are one recording, analysed as one capture in packet-time order; capture 0 carries the lines and Zeek's output"),
  counts: stateCountsSchema.describe("Captures in the job (total) and in each state"),
  lines: z.record(z.string(), z.number().int()).describe("Lines published per log type, all captures together"),
  sinks: z
    .record(z.string(), sinkStatusSchema)
    .describe(
      "Per sink instance that reported the job, or that owes it lines and is running or was seen (then `lines` 0 and no `updatedAt`): lines delivered (acked), rejected by the destination, replayed, the last error, the lines its routing accepts, and whether it is running",
    ),
  files: z.array(fileRecordSchema).describe("The first captures by index (`limit`, default 20): every capture of a small job"),
  next_cursor: z.string().nullable().describe("`cursor` for `GET /jobs/{id}/captures` to read on; null when `files` holds every capture"),
});
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const capturePageSchema = z.object({
  job_id: z.string(),
  captures: z.array(fileRecordSchema).describe("Captures in index order"),
  next_cursor: z
    .string()
    .nullable()
    .describe("Pass as `cursor` for more; null when nothing is left. A page filtered by name may be short (even empty) with a cursor: keep going until null"),
  remaining: z
    .number()
    .int()
    .describe("Captures in the requested states after this page (at most this many when filtered by name: only reading them would tell)"),
});
export type CapturePage = z.infer<typeof capturePageSchema>;
