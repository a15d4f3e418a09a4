import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { ServiceContext } from "../../shared/service/context.js";
import { collectConsumerGauges } from "../../shared/metrics/consumer-gauges.js";
import { metrics } from "../../shared/metrics/registry.js";
import { toFailure } from "./failure.js";
import { openApiDocument } from "./openapi.js";
import { healthDocs, healthRoute } from "./routes/health.js";
import { jobEventsDocs, jobEventsRoute } from "./routes/job-events.js";
import { jobLogsDocs, jobLogsRoutes } from "./routes/job-logs.js";
import { jobPcapsDocs, jobPcapsRoute } from "./routes/job-pcaps.js";
import { jobsDocs, jobsRoutes } from "./routes/jobs.js";
import { submitDocs, submitRoute } from "./routes/submit.js";
import { MAX_FIELD_BYTES, MAX_FIELDS } from "./upload/read-form.js";

const API_VERSION = "1.0.0";
const ROUTE_DOCS = [...submitDocs, ...jobsDocs, ...jobEventsDocs, ...jobLogsDocs, ...jobPcapsDocs, ...healthDocs];

/** Builds the HTTP API (not listening): tests use `app.inject()`, `startApi` listens. */
export async function buildApp(ctx: ServiceContext): Promise<FastifyInstance> {
  const { http } = ctx.config;
  // pino's Logger is a FastifyBaseLogger; naming the wider type keeps route helpers on FastifyInstance.
  const app: FastifyInstance = Fastify({ loggerInstance: ctx.log.child({ subsystem: "api" }) as FastifyBaseLogger });
  // The parser enforces the per-file size and the file count; the submit route answers them (and the total).
  await app.register(multipart, {
    limits: { fileSize: http.maxFileBytes, files: http.maxFiles, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: http.maxFiles + MAX_FIELDS },
    throwFileSizeLimit: true,
  });
  const document = openApiDocument(ROUTE_DOCS, API_VERSION);
  await app.register(swagger, { mode: "static", specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => document);
  collectConsumerGauges(ctx.topology.jsm, [ctx.topology.names.tasksStream, ctx.topology.names.logsStream]);
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => reply.type("text/plain; version=0.0.4").send(await metrics.render()));

  // Every error keeps one shape; submissions keep the seed's (files, tag) even when rejected early.
  app.setErrorHandler((err, req, reply) => {
    const failure = toFailure(err, http);
    req.log.warn({ event: "request.failed", code: failure.code, err: (err as Error).message }, failure.status);
    const seed = req.url.startsWith("/submit/") ? { files: [], tag: null } : {};
    const jobId = (req.params as { id?: string } | undefined)?.id ?? null;
    void reply.code(failure.httpStatus).send({ status: failure.status, ...seed, job_id: jobId, success: false, code: failure.code });
  });
  submitRoute(app, ctx);
  jobsRoutes(app, ctx);
  jobEventsRoute(app, ctx);
  jobLogsRoutes(app, ctx);
  jobPcapsRoute(app, ctx);
  healthRoute(app, ctx);
  return app;
}
