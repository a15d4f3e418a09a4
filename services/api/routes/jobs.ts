import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import type { ServiceContext } from "../../../shared/service/context.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /jobs/:id`: the job record (state, and per capture its state, Zeek's stderr, line counts). */
export function jobsRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology.jobs);
  app.get<{ Params: { id: string } }>("/jobs/:id", async (req, reply) => {
    const job = UUID.test(req.params.id) ? await jobs.get(req.params.id) : null;
    if (!job) {
      return reply.code(404).send({ status: `no job ${req.params.id}`, job_id: req.params.id, success: false, code: ErrorCodes.JOB_NOT_FOUND });
    }
    return job;
  });
}
