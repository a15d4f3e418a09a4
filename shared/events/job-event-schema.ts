// The lifecycle events of a job as zod schemas that import nothing but zod and the job states:
// the api documents its event stream with them, and the CLI and the web page take their types
// from them (type-only imports).
import { z } from "zod";
import { fileStates, jobStates } from "../jobs/job-states.js";

/** Names listed in `job.queued`: an event must fit one NATS message whatever the job's size. */
export const QUEUED_NAMES_MAX = 100;

const base = { jobId: z.uuid(), at: z.string() };
const lines = z.record(z.string(), z.number().int());
const error = z.object({ code: z.string(), message: z.string() });

/** Lifecycle events of a job, published on `<prefix>.events.<job id>` by every stage. */
export const jobEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("job.queued"),
    ...base,
    files: z.array(z.string()).describe(`Names of the first ${QUEUED_NAMES_MAX} captures (all of them in smaller jobs)`),
    count: z.number().int().optional().describe("Number of captures in the job"),
  }),
  z.object({ type: z.literal("file.started"), ...base, fileIndex: z.number().int(), name: z.string(), attempt: z.number().int() }),
  z.object({
    type: z.literal("file.finished"),
    ...base,
    fileIndex: z.number().int(),
    name: z.string(),
    state: z.enum(fileStates),
    lines,
    error: error.optional(),
    reused: z.boolean().optional(),
  }),
  /** Something a person should know about a capture that still succeeded (a cut capture salvaged). */
  z.object({ type: z.literal("file.warning"), ...base, fileIndex: z.number().int(), name: z.string(), code: z.string(), message: z.string() }),
  z.object({
    type: z.literal("lines.delivered"),
    ...base,
    sink: z.string(),
    lines: z.number().int(),
    rejected: z.number().int().optional(),
    replayed: z.number().int().optional(),
    lastError: z.string().optional(),
  }),
  z.object({ type: z.literal("job.finished"), ...base, state: z.enum(jobStates) }),
]);

export type JobEvent = z.infer<typeof jobEventSchema>;
