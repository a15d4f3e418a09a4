import type { KV } from "@nats-io/kv";
import { BrocapiError, ErrorCodes } from "../errors.js";
import { casUpdate } from "../nats/kv-cas.js";
import { deriveJobState, isFinal, jobRecordSchema, type FileRecord, type JobRecord } from "./job-record.js";

/**
 * Job records in the jobs KV bucket. Workers analysing different captures of one job update
 * the same record concurrently, so every change is a compare-and-set retried on conflict.
 */
export class JobStore {
  constructor(private readonly kv: KV) {}

  async create(job: JobRecord): Promise<void> {
    await this.kv.create(job.id, JSON.stringify(job));
  }

  async get(id: string): Promise<JobRecord | null> {
    const entry = await this.kv.get(id);
    if (!entry || entry.operation !== "PUT") return null;
    return jobRecordSchema.parse(entry.json());
  }

  /**
   * Applies `change` to one file of a job and re-derives the job's state and times.
   * `finishedNow` is true for the one update that made the job final.
   */
  async updateFile(id: string, index: number, change: (file: FileRecord) => void): Promise<{ job: JobRecord; finishedNow: boolean }> {
    let finishedNow = false;
    const job = await casUpdate(this.kv, id, (current) => {
      const job = current === null ? null : jobRecordSchema.parse(current);
      const file = job?.files[index];
      // Permanent: the job was deleted (or never existed), so its task has nothing left to do.
      if (!job || !file) throw new BrocapiError(ErrorCodes.JOB_NOT_FOUND, `job ${id} has no record of file ${index}`, { permanent: true, httpStatus: 404 });
      const wasFinal = isFinal(job.state);
      change(file);
      const now = new Date().toISOString();
      job.state = deriveJobState(job.files);
      if (job.state !== "queued") job.startedAt ??= now;
      if (isFinal(job.state)) job.finishedAt ??= now;
      finishedNow = !wasFinal && isFinal(job.state);
      return job;
    });
    return { job, finishedNow };
  }
}
