import { fileStates, type FileState, type JobHeader } from "./job-record.js";
import { indexesInStates } from "./job-shards.js";
import { DEFAULT_PROFILE } from "../config/zeek-profile.js";
import { FIRST_PAGE, type CapturePage, type JobStatus } from "./job-status-schema.js";
import type { SinkProgressStore } from "./sink-progress-store.js";
import { acceptedTotal } from "./sink-routing.js";
import type { JobStore } from "./job-store.js";

export type { CapturePage, JobStatus };

/** Captures one `GET /jobs/:id/captures` request examines at most when filtering by name. */
export const NAME_SCAN_MAX = 1_000;

export async function jobStatus(jobs: JobStore, sinks: SinkProgressStore, id: string, limit = FIRST_PAGE): Promise<JobStatus | null> {
  const summary = await jobs.summary(id);
  if (!summary) return null;
  const { header } = summary;
  const [files, { records, routing }] = await Promise.all([jobs.captures(id, [...Array(Math.min(limit, header.files)).keys()]), sinks.ofJobRouted(id)]);
  // What each instance must end up with, by the rule its audit applies (acceptedLines).
  const sinkStatus = Object.fromEntries(
    Object.entries(records).map(([name, record]) => {
      const route = routing[name];
      return [name, route ? { ...record, expected: acceptedTotal(summary.lines, header.tag, route) } : record];
    }),
  );
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
    sinks: sinkStatus,
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
