import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { BrocapiError, ErrorCodes } from "../../../shared/errors.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { SinkProgressStore } from "../../../shared/jobs/sink-progress-store.js";
import { queueReplay } from "../../../shared/messages/replay-request.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { failure, jobIdParams, replayBody, replayQueued } from "../schemas.js";

export const jobReplayDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/jobs/{id}/replay",
    summary:
      "Deliver a job's retained lines again to one sink instance (e.g. a SIEM that lost an index), through its routing and format; counted as `replayed` in the job's record for that sink. Taken by one process of the instance, on any host; it waits there while the instance is down",
    roles: ["admin"],
    params: jobIdParams,
    body: replayBody,
    responses: {
      202: { description: "Queued for the instance", schema: replayQueued },
      400: { description: "No sink name, or a malformed job id", schema: failure },
      404: { description: "No such job, or no sink instance of that name has run", schema: failure },
      410: { description: "Some of the job's lines have expired from the LOGS stream (retention)", schema: failure },
    },
  },
];

export function jobReplayRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology);
  const sinks = new SinkProgressStore(ctx.topology.sinks);
  const { names, jsm } = ctx.topology;

  app.post("/jobs/:id/replay", async (req, reply) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const { sink } = parseRequest(replayBody, req.body ?? {});
    const job = await jobs.summary(id);
    if (!job) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    const known = await sinks.names();
    if (!known.includes(sink)) {
      throw new BrocapiError(ErrorCodes.SINK_NOT_FOUND, `no sink instance named ${sink} has run; known: ${known.join(", ") || "none"}`, { permanent: true, httpStatus: 404 });
    }
    // Every log type the record counts must still be in the stream: a partial replay would look complete.
    const stream = await jsm.streams.info(names.logsStream, { subjects_filter: names.logsOfJob(id) });
    const held = new Set(Object.keys(stream.state.subjects ?? {}));
    const gone = Object.entries(job.lines)
      .filter(([type, n]) => n > 0 && !held.has(names.logSubject(type, id)))
      .map(([type]) => type);
    if (gone.length > 0) {
      throw new BrocapiError(ErrorCodes.LOGS_EXPIRED, `the ${gone.sort().join(", ")} lines of job ${id} have expired from the LOGS stream (retention); nothing to replay`, { permanent: true, httpStatus: 410 });
    }
    await queueReplay(jetstream(ctx.nc), names, id, sink);
    req.log.info({ event: "replay.queued", job: id, sink }, "replay queued");
    return reply.code(202).send({ status: "replay queued", job_id: id, sink, success: true });
  });
}
