import { z } from "zod";
import { jobRecordSchema, type JobRecord } from "./job-record.js";
import { sinkProgressSchema, type SinkProgressStore } from "./sink-progress-store.js";
import type { JobStore } from "./job-store.js";

/** What `GET /jobs/:id` answers: the record, lines per log type over all captures, and each sink's delivery. */
export const jobStatusSchema = jobRecordSchema.extend({
  lines: z.record(z.string(), z.number().int()).describe("Lines published per log type, all captures together"),
  sinks: z.record(z.string(), sinkProgressSchema).describe("Per sink instance: lines delivered (acked), rejected by the destination, replayed, and the last error"),
});
export type JobStatus = z.infer<typeof jobStatusSchema>;

export function totalLines(job: JobRecord): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const f of job.files) for (const [type, n] of Object.entries(f.lines)) lines[type] = (lines[type] ?? 0) + n;
  return lines;
}

export async function jobStatus(jobs: JobStore, sinks: SinkProgressStore, id: string): Promise<JobStatus | null> {
  const job = await jobs.get(id);
  if (!job) return null;
  return { ...job, lines: totalLines(job), sinks: await sinks.ofJob(id) };
}
