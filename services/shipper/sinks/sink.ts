import type { Logger } from "pino";
import type { Config } from "../../../shared/config/schema.js";
import type { LogBatch } from "../../../shared/messages/log-batch.js";

/**
 * A destination for log lines. The shipper hands it one batch at a time, in stream order, and
 * acks the batch on NATS only when `write` resolves; a rejected write is retried (the same batch,
 * in place) until it succeeds, so a sink reconnects inside `write` rather than dropping lines.
 */
export interface Sink {
  readonly kind: string;
  /** Resolves once the destination has taken every line of the batch. */
  write(batch: LogBatch): Promise<void>;
  /** Flushes and releases connections and files. */
  close(): Promise<void>;
}

/** How a sink kind is registered: its name and how to build it from the validated config. */
export interface SinkFactory {
  readonly kind: string;
  create(config: Config, log: Logger): Sink;
}
