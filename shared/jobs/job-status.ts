import { SharedReads } from "../concurrency/shared-reads.js";
import type { Config } from "../config/schema.js";
import { fileStates, isFinal, type FileRecord, type FileState, type JobHeader } from "./job-record.js";
import { indexesInStates } from "./job-shards.js";
import { DEFAULT_PROFILE } from "../config/zeek-profile.js";
import { FIRST_PAGE, type CapturePage, type JobStatus } from "./job-status-schema.js";
import type { SinkProgressStore } from "./sink-progress-store.js";
import { jobSinks } from "./job-sinks.js";
import type { JobStore, JobSummary } from "./job-store.js";

export type { CapturePage, JobStatus };

/** Captures one `GET /jobs/:id/captures` request examines at most when filtering by name. */
export const NAME_SCAN_MAX = 1_000;

/** What a status read shows of a job besides its header and sink records. */
export interface JobProgress {
  summary: JobSummary;
  /** The first captures by index. */
  files: FileRecord[];
}

/**
 * Unfinished jobs whose progress an api keeps for `GET /jobs/:id` (the ones read latest): 256
 * first pages of about 500-byte captures, ~2.5 MB, as many as the final captures JobStore keeps.
 */
const PROGRESS_KEPT = 256;

/**
 * Progress reads of unfinished jobs, shared by the status reads of one job within `maxAgeMs`
 * (http.statusMaxAgeMs): a running job's progress costs its S shards and first page of captures
 * (up to 64 + 20 reads), which one read per job and period pays instead of every request.
 */
type ProgressReads = SharedReads<JobProgress>;

/**
 * What an api's status reads share (`GET /jobs/:id` and the event stream's opening status): the
 * progress of unfinished jobs, the sinks bucket (its registry read once per revision), and how
 * long the LOGS stream keeps lines: what bounds the sink instances listed without a record (jobSinks).
 */
export interface StatusReads {
  progress: ProgressReads;
  sinks: SinkProgressStore;
  logsKeptForMs: number;
}

export const statusReads = (config: Pick<Config, "http" | "nats">, sinks: SinkProgressStore): StatusReads => ({
  progress: new SharedReads(config.http.statusMaxAgeMs, PROGRESS_KEPT),
  sinks,
  logsKeptForMs: config.nats.logRetentionHours * 3_600_000,
});

const firstIndexes = (header: JobHeader, n: number): number[] => [...Array(Math.min(n, header.files)).keys()];

async function readProgress(jobs: JobStore, header: JobHeader, limit: number): Promise<JobProgress> {
  const [summary, files] = await Promise.all([jobs.summarise(header), jobs.captures(header.id, firstIndexes(header, limit))]);
  return { summary, files };
}

/**
 * A final job's progress is read as it is (its header holds the summary; its captures, final,
 * are remembered by JobStore). An unfinished job's is shared through `shared` when given: its
 * summary and first FIRST_PAGE captures at most `maxAgeMs` old; a longer page reads the captures
 * past it itself.
 */
async function progress(jobs: JobStore, header: JobHeader, limit: number, shared?: SharedReads<JobProgress>): Promise<JobProgress> {
  if (!shared || isFinal(header.state)) return readProgress(jobs, header, limit);
  const known = await shared.get(header.id, () => readProgress(jobs, header, FIRST_PAGE));
  if (limit <= FIRST_PAGE) return { summary: known.summary, files: known.files.slice(0, limit) };
  return { summary: known.summary, files: [...known.files, ...(await jobs.captures(header.id, firstIndexes(header, limit).slice(FIRST_PAGE)))] };
}

/**
 * A job's status, or null when it has none. The header is read by every call, never shared: it
 * turns final before `job.finished` is published, so a client that heard `job.finished` and then
 * reads the status sees the job final, whatever progress of its running days `shared` keeps.
 */
export async function jobStatus(jobs: JobStore, reads: StatusReads, id: string, limit = FIRST_PAGE): Promise<JobStatus | null> {
  const header = await jobs.header(id);
  if (!header) return null;
  const [{ summary, files }, instances] = await Promise.all([progress(jobs, header, limit, reads.progress), reads.sinks.ofJobRouted(id)]);
  return {
    id,
    tag: header.tag,
    state: summary.state,
    format: header.format,
    profile: header.profile ?? DEFAULT_PROFILE,
    merge: header.merge ?? false,
    submittedAt: header.submittedAt,
    ...(summary.startedAt ? { startedAt: summary.startedAt } : {}),
    ...(summary.finishedAt ? { finishedAt: summary.finishedAt } : {}),
    counts: summary.counts,
    lines: summary.lines,
    sinks: jobSinks(header, summary.lines, instances, Date.now(), reads.logsKeptForMs),
    files,
    next_cursor: limit < header.files ? String(limit) : null,
  };
}

export interface CaptureQuery {
  states?: readonly FileState[] | undefined;
  prefix?: string | undefined;
  cursor: number;
  limit: number;
}

export const isFileState = (s: string): s is FileState => (fileStates as readonly string[]).includes(s);

/**
 * A page of a job's captures from index `cursor` on. A state filter is answered from the shards'
 * state index, so only matching captures are read; a name filter reads captures in index order,
 * at most NAME_SCAN_MAX per request (a bounded read), and says where to go on.
 */
export async function capturePage(jobs: JobStore, header: JobHeader, q: CaptureQuery): Promise<CapturePage> {
  const states = q.states && q.states.length > 0 ? new Set(q.states) : null;
  const candidates = states ? indexesInStates(await jobs.shards(header), states, q.cursor) : null;
  const count = candidates ? candidates.length : Math.max(0, header.files - q.cursor);
  const at = (i: number): number => (candidates ? candidates[i]! : q.cursor + i);
  const scan = q.prefix === undefined ? q.limit : NAME_SCAN_MAX;
  const page = [];
  let pos = 0;
  while (pos < count && pos < scan && page.length < q.limit) {
    const n = Math.min(q.prefix === undefined ? q.limit - page.length : 100, count - pos, scan - pos);
    const indexes = Array.from({ length: n }, (_, i) => at(pos + i));
    const found = new Map((await jobs.captures(header.id, indexes)).map((f) => [f.index, f]));
    for (const index of indexes) {
      pos++;
      const f = found.get(index);
      // Re-checked on the record: a capture may have moved on since the shards were read.
      if (!f || (q.prefix !== undefined && !f.name.startsWith(q.prefix)) || (states && !states.has(f.state))) continue;
      page.push(f);
      if (page.length === q.limit) break;
    }
  }
  return { job_id: header.id, captures: page, next_cursor: pos < count ? String(at(pos)) : null, remaining: count - pos };
}
