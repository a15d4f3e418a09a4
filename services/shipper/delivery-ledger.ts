import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { JobEvents } from "../../shared/events/job-events.js";
import type { SinkDelta, SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";

interface Pending {
  lines: number;
  rejected: number;
  /** The destination's reason for the last rejected lines. */
  reason: string | null;
  /** Messages to ack once counted (none for a replay, read without acks). */
  msgs: JsMsg[];
  batches: number;
}

/**
 * What a sink instance has written but not yet acked, per job. On `flush` the lines are added to
 * each job's count for the instance (`replayed` for a replay), a `lines.delivered` event goes
 * out, and only then are the messages acked: a count never includes a batch NATS could still
 * redeliver as undelivered. Errors are recorded on the job at most every `errorEveryMs`, so an
 * outage shows in the status without flooding it.
 */
export class DeliveryLedger {
  private readonly pending = new Map<string, Pending>();
  private readonly errorsAt = new Map<string, number>();
  private size = 0;

  constructor(
    private readonly sink: string,
    private readonly store: SinkProgressStore,
    private readonly events: JobEvents,
    private readonly log: Logger,
    private readonly mode: "live" | "replay" = "live",
    private readonly errorEveryMs = 5_000,
  ) {}

  /** Messages written but unacked: the runner flushes when this grows. */
  get held(): number {
    return this.size;
  }

  delivered(jobId: string, lines: number, msg: JsMsg | null, rejected?: { lines: number; reason: string }): void {
    const entry = this.pending.get(jobId) ?? { lines: 0, rejected: 0, reason: null, msgs: [], batches: 0 };
    entry.lines += lines;
    if (rejected && rejected.lines > 0) {
      entry.rejected += rejected.lines;
      entry.reason = rejected.reason;
    }
    if (msg) entry.msgs.push(msg);
    entry.batches++;
    this.pending.set(jobId, entry);
    this.size++;
  }

  /** Keeps every held message from being redelivered while the sink waits on its destination. */
  heartbeat(): void {
    for (const { msgs } of this.pending.values()) for (const m of msgs) m.working();
  }

  async failed(jobId: string, error: string): Promise<void> {
    const last = this.errorsAt.get(jobId) ?? 0;
    if (Date.now() - last < this.errorEveryMs) return;
    this.errorsAt.set(jobId, Date.now());
    try {
      const record = await this.store.add(jobId, this.sink, {}, error);
      await this.events.publish(jobId, { type: "lines.delivered", sink: this.sink, lines: record.lines, lastError: error });
    } catch (err) {
      this.log.warn({ event: "sink.progress_failed", job: jobId, err: (err as Error).message }, "could not record the sink error");
    }
  }

  async flush(): Promise<void> {
    for (const [jobId, entry] of [...this.pending]) {
      const delta: SinkDelta = this.mode === "replay" ? { replayed: entry.lines } : { lines: entry.lines, rejected: entry.rejected };
      let record;
      try {
        record = await this.store.add(jobId, this.sink, delta, entry.reason);
      } catch (err) {
        // Kept for the next flush; if NATS stays away the messages come back and are written again.
        this.log.warn({ event: "sink.progress_failed", job: jobId, err: (err as Error).message }, "could not record delivered lines");
        continue;
      }
      // Counted: from here the entry is acked even if the event is lost (the count is the durable
      // state; keeping the entry would add its lines a second time at the next flush).
      try {
        await this.events.publish(jobId, {
          type: "lines.delivered",
          sink: this.sink,
          lines: record.lines,
          ...(record.rejected ? { rejected: record.rejected } : {}),
          ...(record.replayed ? { replayed: record.replayed } : {}),
          ...(entry.reason ? { lastError: entry.reason } : {}),
        });
      } catch (err) {
        this.log.warn({ event: "sink.event_failed", job: jobId, err: (err as Error).message }, "could not announce delivered lines");
      }
      for (const m of entry.msgs) m.ack();
      this.pending.delete(jobId);
      this.errorsAt.delete(jobId);
      this.size -= entry.batches;
    }
    // What could not be counted stays held: keep NATS from handing it to another process meanwhile.
    this.heartbeat();
  }
}
