import type { KV } from "@nats-io/kv";
import { z } from "zod";

export const sinkProgressSchema = z.object({
  /** Lines of the job this sink has delivered (acked on the LOGS stream). */
  lines: z.number().int(),
  lastError: z.string().optional(),
  lastErrorAt: z.string().optional(),
  updatedAt: z.string(),
});
export type SinkProgressRecord = z.infer<typeof sinkProgressSchema>;

const CAS_ATTEMPTS = 50;

/**
 * Per job and sink kind, what was delivered, in the sinks KV bucket under `<job id>.<kind>`.
 * Every process of a sink adds to the same record by compare-and-set, so the count is the sink's,
 * not one process's.
 */
export class SinkProgressStore {
  constructor(private readonly kv: KV) {}

  /** Adds `lines` and sets or clears the last error; returns the new record. */
  async add(jobId: string, kind: string, lines: number, error: string | null): Promise<SinkProgressRecord> {
    const key = `${jobId}.${kind}`;
    for (let attempt = 0; ; attempt++) {
      const entry = await this.kv.get(key);
      const now = new Date().toISOString();
      const old = entry?.operation === "PUT" ? sinkProgressSchema.parse(entry.json()) : { lines: 0, updatedAt: now };
      const next: SinkProgressRecord = { ...old, lines: old.lines + lines, updatedAt: now };
      if (error) Object.assign(next, { lastError: error, lastErrorAt: now });
      try {
        if (entry?.operation === "PUT") await this.kv.update(key, JSON.stringify(next), entry.revision);
        else await this.kv.create(key, JSON.stringify(next));
        return next;
      } catch (err) {
        if (attempt >= CAS_ATTEMPTS || !/wrong last sequence|key exists/i.test((err as Error).message)) throw err;
      }
    }
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
