import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { jobStatus, type StatusReads } from "../../../shared/jobs/job-status.js";
import { isFinal } from "../../../shared/jobs/job-states.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { readSubject } from "../../../shared/nats/read-subject.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { sleep } from "../../../shared/service/backoff.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { failure, jobIdParams } from "../schemas.js";

const KEEPALIVE_MS = 15_000;
/** How often a follower caught up with a job's events looks for new ones (one direct get). */
const POLL_MS = 250;
/** Polls between checks that the job still exists. */
const GONE_CHECK_POLLS = 20;

export const jobEventsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs/{id}/events",
    summary:
      "Server-Sent Events of the job's lifecycle: first `status` (the current job), then its events in order (job.queued, file.started, file.warning, file.finished, lines.delivered, job.finished), each with `id:` its sequence; ends after job.finished. A `Last-Event-ID` header resumes after that event (the status is sent first again)",
    roles: ["submit", "read"],
    params: jobIdParams,
    responses: { 200: { description: "text/event-stream", content: "text/event-stream" }, 404: { description: "No such job", schema: failure } },
  },
];

/**
 * `GET /jobs/:id/events`. A client that connects late still sees everything: the current state
 * first, then the job's whole event history from the EVENTS stream (or what came after its
 * `Last-Event-ID`), then live events, until `job.finished`. Events are read by direct gets from the last sequence sent on, polling while
 * caught up: a follower holds no consumer on the server, and survives NATS reconnects as is.
 */
export function jobEventsRoute(app: FastifyInstance, ctx: ServiceContext, reads: StatusReads): void {
  const jobs = new JobStore(ctx.topology);
  const { names, jsm } = ctx.topology;

  app.get("/jobs/:id/events", async (req, reply) => {
    const { id } = parseRequest(jobIdParams, req.params);
    const status = await jobStatus(jobs, reads, id);
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
    // A client reconnecting sends the id of the last event it got (the SSE standard's resume):
    // it gets the current status and then only what came after, not the job's whole history.
    let from = resumeAfter(req.headers["last-event-id"]) + 1;
    const resumed = from > 1;
    let idle = 0;
    try {
      for (let finished = false; !finished && !closed.signal.aborted; ) {
        try {
          for await (const m of readSubject(jsm, names.eventsStream, names.eventsSubject(id), { from, pollAgain: true })) {
            const event = m.json<{ type: string }>();
            send(event.type, event, m.seq);
            from = m.seq + 1;
            idle = 0;
            finished = event.type === "job.finished";
            if (finished || closed.signal.aborted) break;
          }
          // A job deleted while followed has nothing more to say; nor has a final one to a client
          // that resumed after its job.finished (an SSE client reconnects when a stream ends): its
          // job.finished, stored right after the header is final, would have come by now.
          if (!finished && ++idle % GONE_CHECK_POLLS === 0) {
            const header = await jobs.header(id);
            if (!header || (resumed && isFinal(header.state))) break;
          }
        } catch (err) {
          // NATS away: the follower waits with the client rather than ending its stream.
          req.log.warn({ event: "sse.read_failed", job: id, err: (err as Error).message }, "reading the job's events failed; retrying");
        }
        if (!finished) await sleep(POLL_MS);
      }
    } finally {
      clearInterval(keepalive);
      res.end();
    }
  });
}

/** The event sequence a `Last-Event-ID` names; 0 (from the start) for anything else. */
function resumeAfter(header: string | string[] | undefined): number {
  const seq = typeof header === "string" && /^[1-9][0-9]{0,15}$/.test(header) ? Number(header) : 0;
  return Number.isSafeInteger(seq) ? seq : 0;
}
