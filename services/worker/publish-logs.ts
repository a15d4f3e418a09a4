import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Names } from "../../shared/nats/names.js";
import { batchHeaders, batchMsgId, type BatchOrigin } from "../../shared/messages/log-batch.js";
import { readZeekLog } from "../../shared/zeek/log-reader.js";
import { logTypeOf } from "../../shared/zeek/log-types.js";
import { PublishWindow } from "../../shared/messages/publish-window.js";
import type { HostLogs } from "../../shared/sharding/host-logs.js";

export interface PublishOptions {
  js: JetStreamClient;
  names: Names;
  logDir: string;
  origin: Omit<BatchOrigin, "logType" | "zeekHeader">;
  skipped: ReadonlySet<string>;
  batchLines: number;
  /** Messages awaiting their PubAck at once: pipelining is what makes batches fast. */
  window: number;
  /** Logs read but not published (a shard's per-host logs, merged once all shards are done). */
  holdBack?: ReadonlySet<string>;
}

export interface Published {
  /** Lines published per log type. */
  lines: Record<string, number>;
  /** The lines of the logs held back. */
  held: HostLogs;
}

/**
 * Publishes every shipped log Zeek wrote in `logDir` as batches on `<prefix>.logs.<type>.<job>`,
 * with up to `window` publishes in flight. Returns the lines published per log type. A batch's
 * msg id is fixed by (job, capture, log, first line), so a retry after a crash re-sends the same
 * ids and the stream keeps one copy.
 */
export async function publishLogs(opts: PublishOptions): Promise<Published> {
  const counts: Record<string, number> = {};
  const held: HostLogs = {};
  const files = (await readdir(opts.logDir)).filter((f) => f.endsWith(".log")).sort();
  const window = new PublishWindow(opts.js, opts.window);
  for (const file of files) {
    const logType = logTypeOf(file);
    if (opts.skipped.has(logType)) continue;
    if (opts.holdBack?.has(logType)) {
      const log = (held[logType] = { header: null as string[] | null, lines: [] as string[] });
      for await (const batch of readZeekLog(join(opts.logDir, file), opts.origin.format, opts.batchLines)) {
        log.header ??= batch.header ? [...batch.header] : null;
        // One by one: spreading a batch into push() passes each line as an argument, and a batch of
        // some 100,000+ lines (batchLines is the operator's) overflows the stack with a RangeError.
        for (const line of batch.payload.toString("utf8").split("\n")) log.lines.push(line);
      }
      continue;
    }
    counts[logType] = 0;
    const subject = opts.names.logSubject(logType, opts.origin.jobId);
    for await (const batch of readZeekLog(join(opts.logDir, file), opts.origin.format, opts.batchLines)) {
      const meta = { ...opts.origin, logType, zeekHeader: batch.header, firstLine: batch.firstLine, lineCount: batch.lineCount };
      await window.publish(subject, batch.payload, { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
      counts[logType] += batch.lineCount;
    }
  }
  await window.drain();
  return { lines: counts, held };
}
