import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { BrocapiError, ErrorCodes } from "../../../shared/errors.js";
import { JobStore, type JobSummary } from "../../../shared/jobs/job-store.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { createTarGz } from "../../../shared/archive/tar-gz.js";
import { logBytes, logSize } from "../log-bytes.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { failure, jobIdParams, logList, logParams, logQuery } from "../schemas.js";

export const jobLogsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs/{id}/logs",
    summary: "The job's log types with their line counts",
    roles: ["read"],
    params: jobIdParams,
    responses: { 200: { description: "Log types", schema: logList }, 404: { description: "No such job", schema: failure } },
  },
  {
    method: "get",
    path: "/jobs/{id}/logs.tar.gz",
    summary: "Every log of the job as `<job id>/<type>.log` in a gzip-compressed tar, streamed",
    roles: ["read"],
    params: jobIdParams,
    responses: { 200: { description: "The archive", content: "application/gzip" }, 404: { description: "No such job", schema: failure } },
  },
  {
    method: "get",
    path: "/jobs/{id}/logs/{type}",
    summary: "One log of the job, streamed from what JetStream retains: a Zeek TSV file (as the directory sink writes it) or JSON lines; `?format=json` converts TSV",
    roles: ["read"],
    params: logParams,
    query: logQuery,
    responses: {
      200: { description: "The log", content: "text/plain" },
      404: { description: "No such job or log type", schema: failure },
      410: { description: "The lines have expired from the LOGS stream", schema: failure },
    },
  },
];

/** Starts a log stream; 410 when the record counts lines the stream no longer holds. */
async function openLog(ctx: ServiceContext, jobId: string, type: string, toJson: boolean): Promise<Readable> {
  const bytes = logBytes(ctx.topology.jsm, ctx.topology.names, jobId, type, { toJson });
  const first = await bytes.next();
  if (first.done) {
    await bytes.return(undefined);
    throw new BrocapiError(ErrorCodes.LOG_NOT_FOUND, `the ${type} lines of job ${jobId} have expired from the LOGS stream (retention)`, { permanent: true, httpStatus: 410 });
  }
  return Readable.from(
    (async function* () {
      yield first.value;
      yield* bytes;
    })(),
  );
}

export function jobLogsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology);

  const jobOr404 = async (id: string): Promise<JobSummary> => {
    const job = await jobs.summary(id);
    if (!job) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    return job;
  };

  app.get("/jobs/:id/logs", async (req) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const { lines } = await jobOr404(id);
    return { job_id: id, logs: Object.entries(lines).sort().map(([type, n]) => ({ type, lines: n })) };
  });

  app.get("/jobs/:id/logs.tar.gz", async (req, reply) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const job = await jobOr404(id);
    const { jsm } = ctx.topology;
    const types = Object.keys(job.lines).sort();
    const entries = (async function* () {
      for (const type of types) {
        // Sizes first (headers only), then the bytes: a tar header states its entry's size.
        const { bytes, lastSeq } = await logSize(jsm, ctx.topology.names, id, type);
        yield { name: `${id}/${type}.log`, size: bytes, body: logBytes(jsm, ctx.topology.names, id, type, { toJson: false, untilSeq: lastSeq }) };
      }
    })();
    return reply.type("application/gzip").header("content-disposition", `attachment; filename="${id}-logs.tar.gz"`).send(createTarGz(entries));
  });

  app.get("/jobs/:id/logs/:type", async (req, reply) => {
    const { id, type } = parseRequest(logParams, req.params);
    const { format } = parseRequest(logQuery, req.query);
    const job = await jobOr404(id);
    if (!job.lines[type]) throw notFound(ErrorCodes.LOG_NOT_FOUND, `job ${id} has no ${type} lines`);
    const toJson = format === "json" && job.header.format === "tsv";
    const stream = await openLog(ctx, id, type, toJson);
    const json = toJson || job.header.format === "json";
    return reply
      .type(json ? "application/x-ndjson; charset=utf-8" : "text/plain; charset=utf-8")
      .header("content-disposition", `inline; filename="${type}.log"`)
      .send(stream);
  });
}
