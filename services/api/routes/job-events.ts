import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { isFinal } from "../../../shared/jobs/job-record.js";
import { jobStatus } from "../../../shared/jobs/job-status.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { SinkProgressStore } from "../../../shared/jobs/sink-progress-store.js";
import { readSubject } from "../../../shared/nats/read-subject.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { failure, jobIdParams } from "../schemas.js";

const KEEPALIVE_MS = 15_000;

export const jobEventsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs/{id}/events",
    summary:
      "Server-Sent Events of the job's lifecycle: first `status` (the current job), then its events in order (job.queued, file.started, file.warning, file.finished, lines.delivered, job.finished); ends after job.finished",
    roles: ["submit", "read"],
    params: jobIdParams,
    responses: { 200: { description: "text/event-stream", content: "text/event-stream" }, 404: { description: "No such job", schema: failure } },
  },
];

/**
 * `GET /jobs/:id/events`. A client that connects late still sees everything: the current state
 * first, then the job's whole event history from the EVENTS stream, then live events. For a job
 * already final the history is replayed and the stream ends.
 */
export function jobEventsRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology.jobs);
  const sinks = new SinkProgressStore(ctx.topology.sinks);
  const js = jetstream(ctx.nc);
  const { names } = ctx.topology;

  app.get("/jobs/:id/events", async (req, reply) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const status = await jobStatus(jobs, sinks, id);
    if (!status) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    const send = (event: string, data: unknown, seq?: number): void => {
      res.write(`event: ${event}\n${seq ? `id: ${seq}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
    };
    send("status", status);
    const keepalive = setInterval(() => res.write(": keep-alive\n\n"), KEEPALIVE_MS);
    const closed = new AbortController();
    req.raw.on("close", () => closed.abort());
    try {
      if (isFinal(status.state)) {
        for await (const m of readSubject(js, names.eventsStream, names.eventsSubject(id))) send((m.json() as { type: string }).type, m.json(), m.seq);
        return;
      }
      const consumer = await js.consumers.get(names.eventsStream, { filter_subjects: names.eventsSubject(id) });
      const messages = await consumer.consume();
      closed.signal.addEventListener("abort", () => void messages.close());
      for await (const m of messages) {
        const event = m.json() as { type: string };
        send(event.type, event, m.seq);
        if (event.type === "job.finished") break;
      }
      await messages.close();
    } catch (err) {
      req.log.warn({ event: "sse.failed", job: id, err: (err as Error).message }, "event stream ended early");
    } finally {
      clearInterval(keepalive);
      res.end();
    }
  });
}
