import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { deleteJob } from "../../../shared/jobs/delete-job.js";
import { capturePage, jobStatus, type StatusReads } from "../../../shared/jobs/job-status.js";
import { capturePageSchema, jobStatusSchema } from "../../../shared/jobs/job-status-schema.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { capturesQuery, captureShards, captureShardsParams, deleted, failure, jobIdParams, jobList, jobStatusQuery, listJobsQuery } from "../schemas.js";
import { ShardStore } from "../../../shared/sharding/shard-store.js";

/** Index entries one `GET /jobs` request examines at most: a filter matching little cannot make a request unbounded. */
export const LIST_SCAN_MAX = 2_000;
/** Index entries read at once while listing. */
const LIST_WINDOW = 64;

export const jobsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs",
    summary: `List jobs, newest first, paged; filter by tag and state. A request examines at most ${LIST_SCAN_MAX} jobs: with a filter, a page may be short and still have a \`next_cursor\``,
    roles: ["submit", "read"],
    query: listJobsQuery,
    responses: { 200: { description: "A page of jobs", schema: jobList }, 400: { description: "A bad filter, cursor or limit", schema: failure } },
  },
  {
    method: "get",
    path: "/jobs/{id}",
    summary:
      "A job's status: state, times, counts of captures per state, lines per log type, per sink (lines delivered, last error), and the first page of captures (size, SHA-256, state, Zeek exit code and stderr, lines per log type, who analysed it). While the job is unfinished, its counts, lines and first 20 captures may be up to `http.statusMaxAgeMs` (1 s) old; a final job is read final at once",
    roles: ["submit", "read"],
    params: jobIdParams,
    query: jobStatusQuery,
    responses: { 200: { description: "The job", schema: jobStatusSchema }, 404: { description: "No such job", schema: failure } },
  },
  {
    method: "get",
    path: "/jobs/{id}/captures",
    summary: "A page of the job's captures in index order, filtered by state and name prefix; follow `next_cursor`",
    roles: ["submit", "read"],
    params: jobIdParams,
    query: capturesQuery,
    responses: {
      200: { description: "A page of captures", schema: capturePageSchema },
      400: { description: "A malformed job id, a `state` that is not a capture state, or a `cursor` or `limit` that is not a whole number in range", schema: failure },
      404: { description: "No such job", schema: failure },
    },
  },
  {
    method: "get",
    path: "/jobs/{id}/captures/{index}/shards",
    summary: "The shards of a capture analysed in shards (docs/SHARDING.md): each one's state, attempts, times, Zeek exit code and stderr, lines per log type, who analysed it",
    roles: ["submit", "read"],
    params: captureShardsParams,
    responses: { 200: { description: "The capture's shards", schema: captureShards }, 404: { description: "No such job or capture, or a capture not analysed in shards", schema: failure } },
  },
  {
    method: "delete",
    path: "/jobs/{id}",
    summary: "Delete a job's captures, retained log lines, events and record; later reads are 404",
    roles: ["admin"],
    params: jobIdParams,
    responses: { 200: { description: "Deleted", schema: deleted }, 404: { description: "No such job", schema: failure } },
  },
];

export function jobsRoutes(app: FastifyInstance, ctx: ServiceContext, reads: StatusReads): void {
  const jobs = new JobStore(ctx.topology);

  app.get("/jobs", async (req) => {
    const q = parseRequest(listJobsQuery, req.query);
    const { first, last } = await jobs.index.bounds();
    let before = q.cursor ?? last + 1;
    const page = [];
    let next: number | null = null;
    for (let scanned = 0; before > first && scanned < LIST_SCAN_MAX && next === null; scanned += LIST_WINDOW) {
      const entries = await jobs.index.entriesBelow(before, LIST_WINDOW, first);
      before = Math.max(first, before - LIST_WINDOW);
      const headers = await Promise.all(entries.map((e) => jobs.header(e.id)));
      for (const [i, job] of headers.entries()) {
        if (!job || (q.tag !== undefined && job.tag !== q.tag) || (q.state && job.state !== q.state) || !(req.principal?.sees(job.tag) ?? true)) continue;
        page.push({ id: job.id, tag: job.tag, state: job.state, submittedAt: job.submittedAt, ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}), files: job.files });
        if (page.length === q.limit) {
          next = entries[i]!.seq;
          break;
        }
      }
    }
    if (next === null && before > first) next = before;
    return { jobs: page, next_cursor: next === null ? null : String(next) };
  });

  app.get("/jobs/:id", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const { limit } = parseRequest(jobStatusQuery, req.query);
    const status = await jobStatus(jobs, reads, id, limit);
    if (!status) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    return status;
  });

  app.get("/jobs/:id/captures", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const q = parseRequest(capturesQuery, req.query);
    const header = await jobs.header(id);
    if (!header) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    return capturePage(jobs, header, { states: q.state, prefix: q.prefix, cursor: q.cursor, limit: q.limit });
  });

  const shardStore = new ShardStore(ctx.topology.jobs, jobs);
  app.get("/jobs/:id/captures/:index/shards", async (req) => {
    const { id, index } = parseRequest(captureShardsParams, req.params);
    // The header first: a capture read earlier may be remembered after its job was deleted, and
    // a shard's missing record reads as queued.
    if (!(await jobs.header(id))) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    const capture = await jobs.capture(id, index);
    if (!capture) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no capture ${index} in job ${id}`);
    if (!capture.shards) throw notFound(ErrorCodes.JOB_NOT_FOUND, `capture ${index} of job ${id} is not analysed in shards`);
    const shards = await shardStore.shards(id, index, capture.shards.count);
    return { job_id: id, index, shards: shards.map(({ hostParts: _, ...shard }) => shard) };
  });

  app.delete("/jobs/:id", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    if (!(await deleteJob(ctx.topology, id))) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    req.log.info({ event: "job.deleted", job: id }, "job deleted");
    return { status: "job deleted", job_id: id, success: true };
  });
}
