import type { Logger } from "pino";
import type { Config } from "../../../shared/config/schema.js";
import type { LogBatch } from "../../../shared/messages/log-batch.js";

/** What a destination refused for good in a batch (its content, not its availability). */
export interface WriteResult {
  /** Lines of the batch the destination rejected and that retrying cannot fix (e.g. a mapping error). */
  rejected: number;
  /** Why, in the destination's words: shown as the job's `lastError` for this sink. */
  reason: string;
  /**
   * The destination already had this whole batch from an earlier delivery (NATS redelivered it
   * because its ack was lost) and took nothing now: the batch is acked but not counted again, so
   * the job's count stays the lines the destination really holds. Only a sink that can know (the
   * directory sink's index, for batches its own process wrote) sets it; a sink that cannot
   * (syslog) re-sends, and its count is lines sent.
   */
  alreadyDelivered?: true;
}

/**
 * A destination for log lines. The shipper hands it one batch at a time, in stream order, and
 * acks the batch on NATS only when `write` resolves; a rejected write is retried (the same batch,
 * in place) until it succeeds, so a sink reconnects inside `write` rather than dropping lines.
 * `write` may resolve with a WriteResult naming lines the destination refused for good: those are
 * counted as rejected on the job and reported, never silently dropped.
 */
export interface Sink {
  readonly kind: string;
  /** Resolves once the destination has taken (or for good refused) every line of the batch. */
  write(batch: LogBatch): Promise<WriteResult | void>;
  /**
   * Optional: whether the destination already holds this whole batch (the directory sink's
   * index). A sink that can say it is idempotent under replays: a replay skips (and does not
   * count) what it holds, so the job's audit repairs a shortfall by itself by replaying the job
   * (docs/SINKS.md, "The audit"). A sink without it is replayed automatically only when its
   * instance opts in (`autoReplay`).
   */
  holds?(batch: LogBatch): Promise<boolean>;
  /** Flushes and releases connections and files. */
  close(): Promise<void>;
}

/** What a sink is built with besides its options. */
export interface SinkContext {
  /** The instance's name (`sinks.<name>`), for messages and metrics. */
  name: string;
  log: Logger;
  /** The whole validated configuration (data dir, NATS prefix, …). */
  config: Config;
}

/** The two line formats a sink instance can ask for. */
export type SinkFormat = "as-written" | "json";

/** A zod-compatible schema: anything with `safeParse` (a plugin may bring its own zod). */
export interface OptionsSchema<O> {
  safeParse(input: unknown): { success: true; data: O } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/**
 * How a sink kind is registered (built in, or exported by a plugin): its name, the schema of its
 * options, the formats it takes (the first is its default) and how to build an instance.
 */
export interface SinkFactory<O = unknown> {
  readonly kind: string;
  readonly optionsSchema: OptionsSchema<O>;
  readonly formats: readonly [SinkFormat, ...SinkFormat[]];
  create(options: O, ctx: SinkContext): Sink | Promise<Sink>;
}
