import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Names } from "../nats/names.js";
import type { JobEvent } from "./job-event-schema.js";

export { QUEUED_NAMES_MAX, type JobEvent } from "./job-event-schema.js";

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
