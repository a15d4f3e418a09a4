import multipart from "@fastify/multipart";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { ServiceContext } from "../../shared/service/context.js";
import { toFailure } from "./failure.js";
import { healthRoute } from "./routes/health.js";
import { jobsRoute } from "./routes/jobs.js";
import { submitRoute } from "./routes/submit.js";

/** Builds the HTTP API (not listening): tests use `app.inject()`, `startApi` listens. */
export async function buildApp(ctx: ServiceContext): Promise<FastifyInstance> {
  const { http } = ctx.config;
  // pino's Logger is a FastifyBaseLogger; naming the wider type keeps route helpers on FastifyInstance.
  const app: FastifyInstance = Fastify({ loggerInstance: ctx.log.child({ subsystem: "api" }) as FastifyBaseLogger });
  await app.register(multipart, {
    limits: { fileSize: http.maxFileBytes, files: http.maxFiles, fields: 32, fieldSize: 64 * 1024, parts: http.maxFiles + 32 },
    throwFileSizeLimit: true,
  });
  // Errors raised before a handler runs (content type, body size) keep the seed's shape too.
  app.setErrorHandler((err, req, reply) => {
    const failure = toFailure(err, http);
    req.log.warn({ event: "request.failed", code: failure.code, err: (err as Error).message }, failure.status);
    void reply.code(failure.httpStatus).send({ status: failure.status, files: [], tag: null, job_id: null, success: false, code: failure.code });
  });
  submitRoute(app, ctx);
  jobsRoute(app, ctx);
  healthRoute(app, ctx);
  return app;
}
