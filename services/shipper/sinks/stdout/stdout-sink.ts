import type { Writable } from "node:stream";
import { z } from "zod";
import type { LogBatch } from "../../../../shared/messages/log-batch.js";
import { envelopedLines } from "../envelope.js";
import type { Sink, SinkFactory } from "../sink.js";

const stdoutOptions = z.object({}).strict();

/**
 * JSON lines on standard output, one per Zeek line with the `brocapi` envelope (job, tag,
 * capture, log type), for container log drivers and `| jq`. A batch is one write; the write
 * resolves when the stream took it, waiting while the reader is slow (backpressure), so a full
 * pipe holds the shipper back instead of growing its memory. With this sink configured, the
 * services log to standard error.
 */
export class StdoutSink implements Sink {
  readonly kind = "stdout";

  constructor(private readonly out: Writable = process.stdout) {}

  write(batch: LogBatch): Promise<void> {
    const text = `${[...envelopedLines(batch)].join("\n")}\n`;
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Everything written has been handed on by the time each write resolved; nothing is buffered here. */
  async close(): Promise<void> {}
}

export const stdoutSinkFactory: SinkFactory<z.output<typeof stdoutOptions>> = {
  kind: "stdout",
  optionsSchema: stdoutOptions,
  formats: ["json", "as-written"],
  create: () => new StdoutSink(),
};
