import type { Logger } from "pino";
import type { LogBatch } from "../../shared/messages/log-batch.js";
import { metrics } from "../../shared/metrics/registry.js";
import { backoffMs, sleep } from "../../shared/service/backoff.js";
import { BatchToJson } from "../../shared/zeek/batch-to-json.js";
import { ZeekTsvError } from "../../shared/zeek/tsv-to-json.js";
import type { Sink, SinkFormat, WriteResult } from "./sinks/sink.js";

/** Well inside the runner's 30 s ack wait. */
const HEARTBEAT_EVERY_MS = 10_000;

/** What the caller does while a write is being retried: keep its messages alive, report the error. */
export interface RetryHooks {
  heartbeat(): void;
  failed(jobId: string, message: string): Promise<void>;
  stopping(): boolean;
}

/**
 * One sink instance's writes: batches converted to the instance's format, handed to the sink one
 * at a time (the live runner and a replay share the sink, and a sink takes one write at a time),
 * and retried in place with backoff (250 ms doubling to 10 s) until they succeed or the runner
 * stops.
 */
export class SinkWriter {
  private readonly json = new BatchToJson();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly sink: Sink,
    private readonly format: SinkFormat,
    private readonly log: Logger,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Delivers a batch: resolves with what the destination refused for good (`rejected` 0 when it
   * took everything), or null when the runner stopped before it succeeded.
   */
  async deliver(raw: LogBatch, hooks: RetryHooks): Promise<WriteResult | null> {
    let batch: LogBatch;
    try {
      batch = this.format === "json" ? this.json.batch(raw) : raw;
    } catch (err) {
      if (!(err instanceof ZeekTsvError)) throw err;
      // A line TSV could not hold cannot become JSON however often it is tried.
      return { rejected: raw.lineCount, reason: `not convertible to JSON: ${err.message}` };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        // A write may take long (a Splunk acknowledgement, a slow server): its batches stay held meanwhile.
        const beat = setInterval(() => hooks.heartbeat(), HEARTBEAT_EVERY_MS);
        const result = await this.serial(() => this.sink.write(batch)).finally(() => clearInterval(beat));
        if (result && result.rejected > 0) {
          metrics.sinkErrors.inc({ sink: this.name, stage: "rejected" });
          this.log.error({ event: "sink.rejected", job: batch.jobId, log: batch.logType, pcap: batch.pcapIndex, firstLine: batch.firstLine, lines: result.rejected, err: result.reason }, "destination refused lines for good");
        }
        return result ?? { rejected: 0, reason: "" };
      } catch (err) {
        if (hooks.stopping()) return null;
        // A server that says when to come back (429/503 Retry-After) is believed, within an hour.
        const asked = (err as { retryAfterMs?: number }).retryAfterMs;
        const delay = asked !== undefined ? Math.min(asked, 3_600_000) : backoffMs(attempt);
        const message = (err as Error).message;
        metrics.sinkErrors.inc({ sink: this.name, stage: "write" });
        this.log.warn({ event: "sink.write_failed", err: message, job: batch.jobId, log: batch.logType, attempt, retryInMs: delay }, "sink write failed; retrying");
        hooks.heartbeat();
        await hooks.failed(batch.jobId, message);
        // Slept in slices, heartbeating, so a long Retry-After does not let NATS hand the batches elsewhere.
        for (let left = delay; left > 0 && !hooks.stopping(); left -= HEARTBEAT_EVERY_MS) {
          await sleep(Math.min(left, HEARTBEAT_EVERY_MS));
          if (left > HEARTBEAT_EVERY_MS) hooks.heartbeat();
        }
      }
    }
  }

  /** Whether the destination holds the batch already (false for a sink that cannot say); in turn with the writes. */
  holds(batch: LogBatch): Promise<boolean> {
    const holds = this.sink.holds?.bind(this.sink);
    return holds ? this.serial(() => holds(batch)) : Promise.resolve(false);
  }

  /** A sink that can tell which batches it holds: a replay of a job to it cannot duplicate a line. */
  get idempotent(): boolean {
    return typeof this.sink.holds === "function";
  }

  close(): Promise<void> {
    return this.serial(() => this.sink.close());
  }
}
