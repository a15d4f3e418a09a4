import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { JOB_ID_PATTERN } from "../../../../shared/jobs/job-id.js";
import type { LogBatch } from "../../../../shared/messages/log-batch.js";
import type { Sink, SinkFactory, WriteResult } from "../sink.js";
import { DeliveredIndex } from "./delivered-index.js";
import { ZeekFile } from "./zeek-file.js";

const LOG_TYPE = /^[A-Za-z0-9_-]+$/;
/** Job id and log type become path parts: anything else would let a crafted message write outside the root. */
const safePath = (batch: Pick<LogBatch, "jobId" | "logType">): boolean => JOB_ID_PATTERN.test(batch.jobId) && LOG_TYPE.test(batch.logType);
const MAX_OPEN_FILES = 128;

/**
 * Writes `<root>/<job id>/<log type>.log`: for TSV a valid Zeek file (the header once, then the
 * lines), for JSON one object per line. The lines of every capture of a job go into one file.
 * Each batch is written once, even across a crash in the middle of a write (DeliveredIndex).
 */
export class DirectorySink implements Sink {
  readonly kind = "directory";
  private readonly files = new Map<string, ZeekFile>();
  private readonly delivered = new DeliveredIndex();

  constructor(
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  private async file(path: string): Promise<ZeekFile> {
    let file = this.files.get(path);
    if (file) {
      // Refresh its place so the least recently used file is the one closed.
      this.files.delete(path);
    } else {
      if (this.files.size >= MAX_OPEN_FILES) {
        const [oldest, f] = this.files.entries().next().value!;
        this.files.delete(oldest);
        await f.close();
      }
      file = await ZeekFile.open(path);
    }
    this.files.set(path, file);
    return file;
  }

  /** Whether the job folder's index holds the batch (recovering the folder on its first use). */
  async holds(batch: LogBatch): Promise<boolean> {
    return safePath(batch) && this.delivered.has(join(this.root, batch.jobId), batch);
  }

  async write(batch: LogBatch): Promise<WriteResult | void> {
    if (!safePath(batch)) {
      this.log.error({ event: "sink.rejected", job: batch.jobId, log: batch.logType }, "batch with an unsafe job id or log type skipped");
      return;
    }
    const jobDir = join(this.root, batch.jobId);
    await mkdir(jobDir, { recursive: true });
    // First use of a folder recovers it from a crash mid-write, before its files are opened.
    // A batch already in the file is not written again. If this process wrote it, its runner
    // counted it (or holds it to count) and this is a redelivery after a lost ack (a NATS
    // restart): not counted again. One written before a restart of the shipper may never have
    // been counted (killed between write and count): counted now.
    if (await this.delivered.has(jobDir, batch)) return this.delivered.wroteHere(jobDir, batch) ? { rejected: 0, reason: "", alreadyDelivered: true } : undefined;
    const path = join(jobDir, `${batch.logType}.log`);
    const file = await this.file(path);
    const bytes = file.bytes(batch.payload, batch.format === "tsv" ? batch.zeekHeader : null);
    try {
      await this.delivered.begin(jobDir, batch, file.size, bytes.length);
      await file.append(bytes);
    } catch (err) {
      // How much reached the disk is unknown: the retry reopens the file after recovering the folder.
      this.files.delete(path);
      this.delivered.forget(jobDir);
      await file.close().catch(() => undefined);
      throw err;
    }
    await this.delivered.done(jobDir, batch);
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.close()));
    this.files.clear();
  }
}

const directoryOptions = z
  .object({ root: z.string().min(1).describe("Root folder: `<root>/<job id>/<log type>.log`. Default `directory.root` (`BROCAPI_LOG_DIR`).") })
  .strict();

export const directorySinkFactory: SinkFactory<z.output<typeof directoryOptions>> = {
  kind: "directory",
  optionsSchema: directoryOptions,
  formats: ["as-written", "json"],
  create: (options, ctx) => new DirectorySink(resolve(options.root), ctx.log),
};
