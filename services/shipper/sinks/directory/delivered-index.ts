import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LogBatch } from "../../../../shared/messages/log-batch.js";

export const INDEX_FILE = ".brocapi-delivered";

const keyOf = (b: Pick<LogBatch, "pcapIndex" | "logType" | "firstLine">): string => `${b.pcapIndex} ${b.logType} ${b.firstLine}`;

/**
 * Which batches a job folder already holds, by (capture, log, first line), kept in a file beside
 * the logs. A batch NATS redelivers (a shipper restarted before its ack) is then written once.
 */
export class DeliveredIndex {
  private readonly jobs = new Map<string, Set<string>>();

  private async load(jobDir: string): Promise<Set<string>> {
    let keys = this.jobs.get(jobDir);
    if (!keys) {
      const text = await readFile(join(jobDir, INDEX_FILE), "utf8").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return "";
        throw err;
      });
      keys = new Set(text.split("\n").filter(Boolean));
      this.jobs.set(jobDir, keys);
    }
    return keys;
  }

  async has(jobDir: string, batch: LogBatch): Promise<boolean> {
    return (await this.load(jobDir)).has(keyOf(batch));
  }

  async add(jobDir: string, batch: LogBatch): Promise<void> {
    const key = keyOf(batch);
    await appendFile(join(jobDir, INDEX_FILE), `${key}\n`);
    (await this.load(jobDir)).add(key);
  }
}
