import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { JobEvents } from "../../shared/events/job-events.js";
import type { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";

/**
 * What a sink has written but not yet acked, per job. On `flush` the lines are added to each
 * job's delivered count, a `lines.delivered` event goes out, and only then are the messages
 * acked: a count never includes a batch NATS could still redeliver as undelivered. Errors are
 * recorded on the job at most every `errorEveryMs`, so an outage shows in the status without
 * flooding it.
 */
export class DeliveryLedger {
  private readonly pending = new Map<string, { lines: number; msgs: JsMsg[] }>();
  private readonly errorsAt = new Map<string, number>();
  private size = 0;

  constructor(
    private readonly kind: string,
    private readonly store: SinkProgressStore,
    private readonly events: JobEvents,
    private readonly log: Logger,
    private readonly errorEveryMs = 5_000,
  ) {}

  /** Messages written but unacked: the runner flushes when this grows. */
  get held(): number {
    return this.size;
  }

  delivered(jobId: string, lines: number, msg: JsMsg): void {
    const entry = this.pending.get(jobId) ?? { lines: 0, msgs: [] };
    entry.lines += lines;
    entry.msgs.push(msg);
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
      const record = await this.store.add(jobId, this.kind, 0, error);
      await this.events.publish(jobId, { type: "lines.delivered", sink: this.kind, lines: record.lines, lastError: error });
    } catch (err) {
      this.log.warn({ event: "sink.progress_failed", job: jobId, err: (err as Error).message }, "could not record the sink error");
    }
  }

  async flush(): Promise<void> {
    for (const [jobId, entry] of [...this.pending]) {
      try {
        const record = await this.store.add(jobId, this.kind, entry.lines, null);
        await this.events.publish(jobId, { type: "lines.delivered", sink: this.kind, lines: record.lines });
      } catch (err) {
        // Kept for the next flush; if NATS stays away the messages come back and are written again.
        this.log.warn({ event: "sink.progress_failed", job: jobId, err: (err as Error).message }, "could not record delivered lines");
        continue;
      }
      for (const m of entry.msgs) m.ack();
      this.pending.delete(jobId);
      this.errorsAt.delete(jobId);
      this.size -= entry.msgs.length;
    }
    // What could not be counted stays held: keep NATS from handing it to another process meanwhile.
    this.heartbeat();
  }
}
