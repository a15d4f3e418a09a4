import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { ConfigError, ErrorCodes } from "../../shared/errors.js";
import type { ServiceContext } from "../../shared/service/context.js";
import { collectConsumerGauges } from "../../shared/metrics/consumer-gauges.js";
import { metrics } from "../../shared/metrics/registry.js";
import { accessControl } from "./auth/access.js";
import { toFailure } from "./failure.js";
import { openApiDocument } from "./openapi.js";
import { healthDocs, healthRoute } from "./routes/health.js";
import { jobEventsDocs, jobEventsRoute } from "./routes/job-events.js";
import { jobLogsDocs, jobLogsRoutes } from "./routes/job-logs.js";
import { jobPcapsDocs, jobPcapsRoute } from "./routes/job-pcaps.js";
import { jobReplayDocs, jobReplayRoute } from "./routes/job-replay.js";
import { jobsDocs, jobsRoutes } from "./routes/jobs.js";
import { statusReads } from "../../shared/jobs/job-status.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { submitDocs, submitRoute } from "./routes/submit.js";
import { failure } from "./schemas.js";
import { MAX_FIELD_BYTES, MAX_FIELDS } from "./upload/read-form.js";
import { webPageRoutes } from "./web-page.js";

const API_VERSION = "1.0.0";
const ROUTE_DOCS = [...submitDocs, ...jobsDocs, ...jobReplayDocs, ...jobEventsDocs, ...jobLogsDocs, ...jobPcapsDocs, ...healthDocs];

/** The API's certificate and key; a missing or unreadable one stops start-up naming the setting. */
function readTlsFiles(http: ServiceContext["config"]["http"]): { cert: Buffer; key: Buffer } {
  const read = (setting: string, path: string | undefined): Buffer => {
    if (!path) throw new ConfigError(`Invalid configuration:\n  - ${setting}: HTTPS needs both BROCAPI_TLS_CERT_FILE and BROCAPI_TLS_KEY_FILE`);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  - ${setting}: cannot read ${path}: ${(err as Error).message}`, err);
    }
  };
  return { cert: read("BROCAPI_TLS_CERT_FILE (http.tlsCertFile)", http.tlsCertFile), key: read("BROCAPI_TLS_KEY_FILE (http.tlsKeyFile)", http.tlsKeyFile) };
}

/**
 * Requests Node refuses before fastify sees them. Oversized headers (over Node's 16 KiB, such as
 * a 1 MB Authorization header) get a 431 in the API's error shape; anything else a plain 400.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const body = JSON.stringify(
    tooLarge
      ? { status: "the request's headers are larger than the server takes (16 KiB); nothing was read", job_id: null, success: false, code: ErrorCodes.HEADERS_TOO_LARGE }
      : { status: "malformed HTTP request", job_id: null, success: false, code: ErrorCodes.BAD_REQUEST },
  );
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Builds the HTTP API (not listening): tests use `app.inject()`, `startApi` listens. */
export async function buildApp(ctx: ServiceContext): Promise<FastifyInstance> {
  const { http } = ctx.config;
  // pino's Logger is a FastifyBaseLogger; naming the wider type keeps route helpers on FastifyInstance.
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log.child({ subsystem: "api" }) as FastifyBaseLogger,
    ...(http.tlsCertFile || http.tlsKeyFile ? { https: readTlsFiles(http) } : {}),
    clientErrorHandler: answerClientError,
  });
  accessControl(app, ctx, ROUTE_DOCS);
  // The parser enforces the per-file size and the file count; the submit route answers them (and the total).
  await app.register(multipart, {
    limits: { fileSize: http.maxFileBytes, files: http.maxFiles, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: http.maxFiles + MAX_FIELDS },
    throwFileSizeLimit: true,
  });
  const document = openApiDocument(ROUTE_DOCS, API_VERSION, failure, Object.keys(ctx.config.zeek.profiles));
  await app.register(swagger, { mode: "static", specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => document);
  collectConsumerGauges(ctx.topology.jsm, [ctx.topology.names.tasksStream, ctx.topology.names.logsStream]);
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => reply.type("text/plain; version=0.0.4").send(await metrics.render()));

  // Every error keeps one shape; submissions keep the seed's (files, tag) even when rejected early.
  app.setErrorHandler((err, req, reply) => {
    const failure = toFailure(err, http);
    if (failure.challenge) void reply.header("www-authenticate", failure.challenge);
    req.log.warn({ event: "request.failed", code: failure.code, err: (err as Error).message }, failure.status);
    const seed = req.url.startsWith("/submit/") ? { files: [], tag: null } : {};
    const jobId = (req.params as { id?: string } | undefined)?.id ?? null;
    void reply.code(failure.httpStatus).send({ status: failure.status, ...seed, job_id: jobId, success: false, code: failure.code });
  });
  submitRoute(app, ctx);
  // One shared read of each unfinished job's progress (and of the sinks registry) for the status and the event stream's opening status.
  const status = statusReads(ctx.config, new SinkProgressStore(ctx.topology.sinks));
  jobsRoutes(app, ctx, status);
  jobReplayRoute(app, ctx);
  jobEventsRoute(app, ctx, status);
  jobLogsRoutes(app, ctx);
  jobPcapsRoute(app, ctx);
  healthRoute(app, ctx);
  await webPageRoutes(app);
  return app;
}
