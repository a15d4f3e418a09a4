import { z } from "zod";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Names } from "../nats/names.js";
import { fileStates, jobStates } from "../jobs/job-record.js";

/** Names listed in `job.queued`: an event must fit one NATS message whatever the job's size. */
export const QUEUED_NAMES_MAX = 100;

const base = { jobId: z.uuid(), at: z.string() };
const lines = z.record(z.string(), z.number().int());
const error = z.object({ code: z.string(), message: z.string() });

/** Lifecycle events of a job, published on `<prefix>.events.<job id>` by every stage. */
const jobEventSchema = z.discriminatedUnion("type", [
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
type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type NewJobEvent = Without<JobEvent, "at" | "jobId">;

/**
 * Publishes lifecycle events. Events are for people following a job; the job record is what
 * tracks the work, so a failed publish is logged and never fails the work itself.
 */
export class JobEvents {
  constructor(
    private readonly js: JetStreamClient,
    private readonly names: Names,
    private readonly log: Logger,
  ) {}

  async publish(jobId: string, event: NewJobEvent): Promise<void> {
    try {
      await this.publishOrThrow(jobId, event);
    } catch (err) {
      this.log.warn({ event: "events.publish_failed", job: jobId, type: event.type, err: (err as Error).message }, "lifecycle event not published");
    }
  }

  /**
   * Publishes an event that must not be lost (`job.finished`: followers wait for it), failing
   * when NATS did not store it; `msgID` makes a repeat inside the duplicate window a no-op.
   */
  async publishOrThrow(jobId: string, event: NewJobEvent, msgID?: string): Promise<void> {
    const full = { ...event, jobId, at: new Date().toISOString() };
    await this.js.publish(this.names.eventsSubject(jobId), JSON.stringify(full), msgID ? { msgID } : {});
  }
}
