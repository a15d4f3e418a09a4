import type { KV } from "@nats-io/kv";
import { z } from "zod";
import { casUpdate } from "../nats/kv-cas.js";

export const sinkProgressSchema = z.object({
  /** Lines of the job this sink has delivered (acked on the LOGS stream). */
  lines: z.number().int(),
  lastError: z.string().optional(),
  lastErrorAt: z.string().optional(),
  updatedAt: z.string(),
});
export type SinkProgressRecord = z.infer<typeof sinkProgressSchema>;

/**
 * Per job and sink kind, what was delivered, in the sinks KV bucket under `<job id>.<kind>`.
 * Every process of a sink adds to the same record by compare-and-set, so the count is the sink's,
 * not one process's.
 */
export class SinkProgressStore {
  constructor(private readonly kv: KV) {}

  /**
   * Adds `lines`, and records `error` as the last error with its time; a last error stays after
   * recovery (compare `lastErrorAt` with `updatedAt`). Returns the new record.
   */
  async add(jobId: string, kind: string, lines: number, error: string | null): Promise<SinkProgressRecord> {
    return casUpdate(this.kv, `${jobId}.${kind}`, (current) => {
      const now = new Date().toISOString();
      const old = current === null ? { lines: 0 } : sinkProgressSchema.parse(current);
      return { ...old, lines: old.lines + lines, updatedAt: now, ...(error ? { lastError: error, lastErrorAt: now } : {}) };
    });
  }

  /** Every sink's record for a job, by kind. */
  async ofJob(jobId: string): Promise<Record<string, SinkProgressRecord>> {
    const out: Record<string, SinkProgressRecord> = {};
    for await (const key of await this.kv.keys(`${jobId}.*`)) {
      const entry = await this.kv.get(key);
      if (entry?.operation === "PUT") out[key.slice(jobId.length + 1)] = sinkProgressSchema.parse(entry.json());
    }
    return out;
  }

  async deleteJob(jobId: string): Promise<void> {
    for await (const key of await this.kv.keys(`${jobId}.*`)) await this.kv.purge(key);
  }
}
