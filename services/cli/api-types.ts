// The JSON the HTTP API answers with, as the client reads it. Declared here rather than imported
// from the server's zod schemas so the client stays a plain HTTP consumer of the documented contract.

/** A job's state (`partial`: some captures done, some failed). */
export type JobState = "queued" | "running" | "done" | "failed" | "partial";

/** A capture's state within a job. */
export type FileState = "queued" | "running" | "done" | "failed";

/** Every job state, in the order a job passes through them (for validating `--state`). */
export const JOB_STATES: readonly JobState[] = ["queued", "running", "done", "failed", "partial"];

/** Log lines per log type (`conn`, `dns`, …). */
export type LineCounts = Record<string, number>;

/** `{code, message}` of a failed capture. */
export interface ApiErrorInfo {
  code: string;
  message: string;
}

/** One capture of a job in `GET /jobs/:id`. */
export interface JobFile {
  index: number;
  name: string;
  size: number;
  sha256: string;
  /** The upload as sent, when it was gzip/zstd-compressed (size and sha256 are the inflated capture's). */
  compressed?: { encoding: "gzip" | "zstd"; size: number; sha256: string };
  state: FileState;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  zeekExitCode?: number;
  zeekStderr?: string;
  error?: ApiErrorInfo;
  lines: LineCounts;
  reusedFrom?: { jobId: string; fileIndex: number };
  /** The worker of the last attempt: host name, pid and worker name. */
  analysedBy?: { host: string; pid: number; worker: string };
  /** The capture was cut mid-packet; Zeek analysed it up to its last whole packet. */
  salvaged?: { bytesKept: number; packetsKept: number; bytesDropped: number };
}

/** Delivery progress of one sink kind for a job. */
export interface SinkProgress {
  lines: number;
  /** Lines the destination refused for good (reported, not retried). */
  rejected?: number;
  /** Lines delivered again by replays, counted apart from `lines`. */
  replayed?: number;
  lastError?: string;
  lastErrorAt?: string;
  updatedAt: string;
}

/** `GET /jobs/:id`. */
export interface Job {
  id: string;
  tag: string | null;
  state: JobState;
  format: string;
  /** The analysis profile (`default` unless the job chose one); absent from servers before profiles. */
  profile?: string;
  submittedAt: string;
  startedAt?: string;
  finishedAt?: string;
  files: JobFile[];
  lines: LineCounts;
  sinks: Record<string, SinkProgress>;
}

/** One row of `GET /jobs`. */
export interface JobListItem {
  id: string;
  tag: string | null;
  state: JobState;
  submittedAt: string;
  finishedAt?: string;
  files: number;
}

/** `GET /jobs`: newest first, `next_cursor` null on the last page. */
export interface JobList {
  jobs: JobListItem[];
  next_cursor: string | null;
}

/** `POST /submit/pcap` on success. */
export interface SubmitAnswer {
  status: string;
  files: string[];
  tag: string | null;
  job_id: string;
  success: true;
}

/** The data of every event on `GET /jobs/:id/events` after the first `status` event. */
export type JobEvent =
  | { type: "job.queued"; jobId: string; at: string; files: string[] }
  | { type: "file.started"; jobId: string; at: string; fileIndex: number; name: string; attempt: number }
  | { type: "file.finished"; jobId: string; at: string; fileIndex: number; name: string; state: "done" | "failed"; lines: LineCounts; error?: ApiErrorInfo }
  | { type: "file.warning"; jobId: string; at: string; fileIndex: number; name: string; code: string; message: string }
  | { type: "lines.delivered"; jobId: string; at: string; sink: string; lines: number; rejected?: number; replayed?: number; lastError?: string }
  | { type: "job.finished"; jobId: string; at: string; state: JobState };
