// The documented endpoints the page uses, and the one place that knows their JSON shapes. The
// shapes are the CLI's client contract (services/cli/api-types.ts, derived from the api's zod
// schemas), so page, CLI and api change together.
import type { CapturePage as CapturePageAnswer, FileState, Job, JobFile, JobList, JobState } from "../../cli/api-types.js";
import { apiFetch, apiJson } from "./http.js";

const job = (id: string): string => `/jobs/${encodeURIComponent(id)}`;

export const urls = {
  submit: "/submit/pcap",
  events: (id: string) => `${job(id)}/events`,
  log: (id: string, type: string, format?: "json") => `${job(id)}/logs/${encodeURIComponent(type)}${format ? `?format=${format}` : ""}`,
  logsArchive: (id: string) => `${job(id)}/logs.tar.gz`,
  /** By index: two captures of one job may share a name. */
  capture: (id: string, index: number) => `${job(id)}/pcaps/${index}`,
};

export interface JobQuery {
  tag?: string;
  state?: JobState;
  limit: number;
  cursor?: string;
}

export function listJobs(q: JobQuery): Promise<JobList> {
  const params = new URLSearchParams({ limit: String(q.limit) });
  if (q.tag) params.set("tag", q.tag);
  if (q.state) params.set("state", q.state);
  if (q.cursor) params.set("cursor", q.cursor);
  return apiJson<JobList>(`/jobs?${params}`);
}

export async function deleteJob(id: string): Promise<void> {
  await apiFetch(job(id), { method: "DELETE" });
}

export interface LogInfo {
  type: string;
  lines: number;
}

export async function listLogs(id: string, signal: AbortSignal): Promise<LogInfo[]> {
  return (await apiJson<{ logs: LogInfo[] }>(`${job(id)}/logs`, { signal })).logs;
}

/** One log as Zeek wrote it (TSV or JSON lines), streamed. */
export async function openLog(id: string, type: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  return (await apiFetch(urls.log(id, type), { signal })).body!;
}

/** `GET /jobs/:id`, also the first `status` event of `/jobs/:id/events`: the summary and the first page of captures. */
export type JobStatus = Job;

/** What the job view shows above its captures; its size does not depend on their number. */
export type JobSummary = Omit<JobStatus, "files" | "next_cursor"> & { captureCount: number };

/** A page of a job's captures; `next` is null when there are no more. */
export interface CapturePage {
  captures: JobFile[];
  next: string | null;
}

/** `GET /jobs/:id`; `limit` captures in it (the server's first page when not given, none with 0). */
export function loadJob(id: string, signal?: AbortSignal, limit?: number): Promise<JobStatus> {
  return apiJson<JobStatus>(`${job(id)}${limit === undefined ? "" : `?limit=${limit}`}`, signal ? { signal } : {});
}

export function summaryOf(status: JobStatus): JobSummary {
  const { files: _files, next_cursor: _next, ...rest } = status;
  return { ...rest, captureCount: status.counts.total };
}

/** The first page of captures the status carries (every capture of a small job). */
export function capturesOf(status: JobStatus): CapturePage {
  return { captures: status.files, next: status.next_cursor };
}

/** Captures per `GET /jobs/:id/captures` page the view asks for. */
const CAPTURE_PAGE = 100;

/** `GET /jobs/:id/captures`: the captures from `cursor` on, in index order, optionally only those in `state`. */
export async function loadCaptures(id: string, q: { cursor?: string; state?: FileState }, signal?: AbortSignal): Promise<CapturePage> {
  const params = new URLSearchParams({ limit: String(CAPTURE_PAGE) });
  if (q.cursor) params.set("cursor", q.cursor);
  if (q.state) params.set("state", q.state);
  const page = await apiJson<CapturePageAnswer>(`${job(id)}/captures?${params}`, signal ? { signal } : {});
  return { captures: page.captures, next: page.next_cursor };
}
