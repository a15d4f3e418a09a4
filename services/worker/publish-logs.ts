import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Names } from "../../shared/nats/names.js";
import { batchHeaders, batchMsgId, type BatchOrigin } from "../../shared/messages/log-batch.js";
import { readZeekLog } from "../../shared/zeek/log-reader.js";
import { logTypeOf } from "../../shared/zeek/log-types.js";
import { PublishWindow } from "./publish-window.js";

export interface PublishOptions {
  js: JetStreamClient;
  names: Names;
  logDir: string;
  origin: Omit<BatchOrigin, "logType" | "zeekHeader">;
  skipped: ReadonlySet<string>;
  batchLines: number;
  /** Messages awaiting their PubAck at once: pipelining is what makes batches fast. */
  window: number;
}

/**
 * Publishes every shipped log Zeek wrote in `logDir` as batches on `<prefix>.logs.<type>.<job>`,
 * with up to `window` publishes in flight. Returns the lines published per log type. A batch's
 * msg id is fixed by (job, capture, log, first line), so a retry after a crash re-sends the same
 * ids and the stream keeps one copy.
 */
export async function publishLogs(opts: PublishOptions): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const files = (await readdir(opts.logDir)).filter((f) => f.endsWith(".log")).sort();
  const window = new PublishWindow(opts.js, opts.window);
  for (const file of files) {
    const logType = logTypeOf(file);
    if (opts.skipped.has(logType)) continue;
    counts[logType] = 0;
    const subject = opts.names.logSubject(logType, opts.origin.jobId);
    for await (const batch of readZeekLog(join(opts.logDir, file), opts.origin.format, opts.batchLines)) {
      const meta = { ...opts.origin, logType, zeekHeader: batch.header, firstLine: batch.firstLine, lineCount: batch.lineCount };
      await window.publish(subject, batch.payload, { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
      counts[logType] += batch.lineCount;
    }
  }
  await window.drain();
  return counts;
}
