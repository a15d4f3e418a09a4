import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { deleteJob } from "../../../shared/jobs/delete-job.js";
import { JOB_ID_PATTERN } from "../../../shared/jobs/job-id.js";
import { jobStatus, jobStatusSchema } from "../../../shared/jobs/job-status.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { SinkProgressStore } from "../../../shared/jobs/sink-progress-store.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { deleted, failure, jobIdParams, jobList, listJobsQuery } from "../schemas.js";

export const jobsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs",
    summary: "List jobs, newest first, paged; filter by tag and state",
    roles: ["submit", "read"],
    query: listJobsQuery,
    responses: { 200: { description: "A page of jobs", schema: jobList } },
  },
  {
    method: "get",
    path: "/jobs/{id}",
    summary: "A job's status: state, times, per capture (size, SHA-256, state, Zeek exit code and stderr, lines per log type), per sink (lines delivered, last error)",
    roles: ["submit", "read"],
    params: jobIdParams,
    responses: { 200: { description: "The job", schema: jobStatusSchema }, 404: { description: "No such job", schema: failure } },
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

/** Job ids are UUIDv7, so key order is submission order and pages need no record reads to sort. */
async function jobIdsNewestFirst(store: ServiceContext["topology"]["jobs"]): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of await store.keys()) if (JOB_ID_PATTERN.test(key)) ids.push(key);
  return ids.sort().reverse();
}

export function jobsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology.jobs);
  const sinks = new SinkProgressStore(ctx.topology.sinks);

  app.get("/jobs", async (req) => {
    const q = parseRequest(listJobsQuery, req.query);
    const ids = await jobIdsNewestFirst(ctx.topology.jobs);
    const start = q.cursor ? ids.findIndex((id) => id < q.cursor!) : 0;
    const page = [];
    let next: string | null = null;
    for (let i = start < 0 ? ids.length : start; i < ids.length; i++) {
      const job = await jobs.get(ids[i]!);
      if (!job || (q.tag !== undefined && job.tag !== q.tag) || (q.state && job.state !== q.state) || !(req.principal?.sees(job.tag) ?? true)) continue;
      page.push({ id: job.id, tag: job.tag, state: job.state, submittedAt: job.submittedAt, ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}), files: job.files.length });
      if (page.length === q.limit) {
        next = i + 1 < ids.length ? job.id : null;
        break;
      }
    }
    return { jobs: page, next_cursor: next };
  });

  app.get("/jobs/:id", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const status = await jobStatus(jobs, sinks, id);
    if (!status) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    return status;
  });

  app.delete("/jobs/:id", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    if (!(await deleteJob(ctx.topology, id))) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    req.log.info({ event: "job.deleted", job: id }, "job deleted");
    return { status: "job deleted", job_id: id, success: true };
  });
}
