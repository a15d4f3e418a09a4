import { z } from "zod";
import { shardRecordSchema } from "../../shared/sharding/shard-record.js";
import { jobBaseSchema } from "../../shared/jobs/job-record.js";
import { fileStates, JOB_ID_PATTERN, jobStates } from "../../shared/jobs/job-states.js";
import { FIRST_PAGE } from "../../shared/jobs/job-status-schema.js";
import { PAGE_MAX } from "../../shared/jobs/page-limits.js";
import { SINK_NAME } from "../../shared/config/sink-instance.js";

/**
 * Request and response shapes of the API. Routes validate with these, and the OpenAPI document
 * (`/openapi.json`, `/docs`) is generated from the same schemas. The CLI and the web page take
 * their types from them, so this file imports only zod and other schema-only modules.
 */
export const jobIdParams = z.object({ id: z.string().regex(JOB_ID_PATTERN, "a job id (UUID)").describe("Job id") });

export const listJobsQuery = z.object({
  tag: z.string().optional().describe("Only jobs with this tag"),
  state: z.enum(jobStates).optional().describe("Only jobs in this state"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(50).describe(`Jobs per page (1–${PAGE_MAX}, default 50)`),
  cursor: z.coerce.number().int().min(1).optional().describe("`next_cursor` of the previous page"),
});

export const jobStatusQuery = z.object({
  limit: z.coerce.number().int().min(0).max(PAGE_MAX).default(FIRST_PAGE).describe(`Captures to include (0–${PAGE_MAX}, default ${FIRST_PAGE}); the rest through /jobs/{id}/captures`),
});

export const capturesQuery = z.object({
  state: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const states = s === undefined || s === "" ? undefined : s.split(",");
      for (const st of states ?? []) {
        if (!(fileStates as readonly string[]).includes(st)) ctx.addIssue({ code: "custom", message: `must be ${fileStates.join(", ")} (comma-separated), not ${st}` });
      }
      return states as (typeof fileStates)[number][] | undefined;
    })
    .describe(`Only captures in these states, comma-separated (${fileStates.join(", ")})`),
  prefix: z.string().optional().describe("Only captures whose file name starts with this"),
  cursor: z.coerce.number().int().min(0).default(0).describe("`next_cursor` of the previous page (a capture index); default: from the first"),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(100).describe(`Captures per page (1–${PAGE_MAX}, default 100)`),
});

export const jobSummary = jobBaseSchema.pick({ id: true, tag: true, state: true, submittedAt: true, finishedAt: true }).extend({
  files: z.number().int().describe("Number of captures"),
});

export const jobList = z.object({
  jobs: z.array(jobSummary).describe("Newest first"),
  next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last"),
});

export const logParams = jobIdParams.extend({ type: z.string().regex(/^[A-Za-z0-9_-]+$/, "a log type such as conn").describe("Log type, e.g. `conn`") });
export const logQuery = z.object({
  format: z.enum(["tsv", "json"]).optional().describe("`json` converts TSV logs to Zeek's JSON lines; default: as Zeek wrote them"),
});
export const logList = z.object({
  job_id: z.string(),
  logs: z.array(z.object({ type: z.string(), lines: z.number().int() })),
});
export const captureShardsParams = jobIdParams.extend({ index: z.coerce.number().int().min(0).describe("The capture's index in the job") });
export const captureShards = z.object({
  job_id: z.string(),
  index: z.number().int(),
  shards: z.array(shardRecordSchema.omit({ hostParts: true })).describe("Every shard, by its number"),
});

export const pcapParams = jobIdParams.extend({ name: z.string().min(1).describe("The capture's file name, or its index in the job (0, 1, …)") });

export const submitResponse = z.object({
  status: z.string().describe("`job queued`, or what was wrong"),
  files: z.array(z.string()).describe("Safe base names of the captures"),
  tag: z.string().nullable(),
  job_id: z.string().nullable(),
  success: z.boolean(),
  code: z.string().optional().describe("Stable error code when success is false"),
});

export const failure = z.object({
  status: z.string().describe("What was wrong, in words"),
  success: z.literal(false),
  code: z.string().describe("Stable error code, e.g. BROCAPI_JOB_NOT_FOUND"),
  job_id: z.string().nullable().optional(),
});

export const deleted = z.object({ status: z.literal("job deleted"), job_id: z.string(), success: z.literal(true) });
export const health = z.object({ status: z.string(), nats: z.string() });

export const replayBody = z.object({ sink: z.string().regex(SINK_NAME, "a sink instance name").describe("The sink instance (`sinks.<name>`) to deliver the job's lines to again") });
export const replayQueued = z.object({
  status: z.literal("replay queued"),
  job_id: z.string(),
  sink: z.string(),
  success: z.literal(true),
});
