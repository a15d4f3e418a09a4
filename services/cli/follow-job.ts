import { setTimeout as sleep } from "node:timers/promises";
import { ApiClient } from "./api-client.js";
import { isFinal, type Job, type JobEvent } from "./api-types.js";
import { AnalysisProgress } from "./analysis-progress.js";
import { DELIVERY_STALL_MS, deliveryDone, published, sinkExpected, sinkProgressKey } from "./delivery.js";
import { ApiError } from "./errors.js";
import { formatSinkAudit, formatSinkProgress, printable } from "./format.js";
import { readSse } from "./sse.js";

/** How often in a row a dropped event stream is reopened without news before giving up, and the first pause before that. */
const RECONNECTS = 5;
const RECONNECT_PAUSE_MS = 500;

/** The event types this client shows: a type added to JobEvent fails to compile until it is listed here. */
const EVENT_TYPES: ReadonlySet<string> = new Set(
  Object.keys({ "job.queued": true, "file.started": true, "file.finished": true, "file.warning": true, "lines.delivered": true, "job.finished": true } satisfies Record<JobEvent["type"], true>),
);

/**
 * Decides which events are news. A reopened stream may replay events already shown (an api that
 * does not resume from Last-Event-ID replays the job's history), and a sink may report the same
 * count twice: each capture start, capture end and sink count is shown once.
 */
export class EventFilter {
  private readonly seen = new Set<string>();
  /** Per sink: the highest count shown, and the last error shown. */
  private readonly delivered = new Map<string, { lines: number; lastError: string | undefined }>();

  /** True when `event` says something not yet shown; remembers it. */
  isNew(event: JobEvent): boolean {
    if (event.type === "lines.delivered") {
      const shown = this.delivered.get(event.sink) ?? { lines: 0, lastError: undefined };
      // Counts are cumulative, so a lower or equal one is old news; an error is news once.
      const news = event.lines > shown.lines || (event.lastError !== undefined && event.lastError !== shown.lastError) || !this.delivered.has(event.sink);
      if (news) this.delivered.set(event.sink, { lines: Math.max(event.lines, shown.lines), lastError: event.lastError ?? shown.lastError });
      return news;
    }
    const key =
      event.type === "file.started" ? `${event.type}:${event.fileIndex}:${event.attempt}` : event.type === "file.finished" || event.type === "file.warning" ? `${event.type}:${event.fileIndex}` : event.type;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

function parseEvent(type: string, data: string): JobEvent | Job {
  try {
    return JSON.parse(data) as JobEvent | Job;
  } catch {
    throw new ApiError(`the server sent a ${type} event whose data is not JSON: ${data.slice(0, 80)}`);
  }
}

/** What one job's follower keeps across reconnections. */
interface Following {
  filter: EventFilter;
  /** Made from the first status: how many captures the job has decides how events are shown. */
  view?: AnalysisProgress;
  /** Events shown so far: a connection that added to it made progress. */
  shown: number;
  /** The `id:` of the last event read: a reopened stream resumes after it (Last-Event-ID) instead of replaying the job's history. */
  lastId?: string;
}

/**
 * Reads one connection of `GET /jobs/:id/events`, showing each new event. Returns true when
 * the job is known to be over: `job.finished` arrived, or the opening status was already final.
 */
async function readOnce(client: ApiClient, jobId: string, state: Following, print: (line: string) => void, bar: NodeJS.WriteStream): Promise<boolean> {
  const res = await client.request(ApiClient.jobPath(jobId, "events"), { headers: { accept: "text/event-stream", ...(state.lastId ? { "last-event-id": state.lastId } : {}) } });
  if (!res.body) throw new ApiError("the server answered the event stream with no body");
  let final = false;
  for await (const sse of readSse(res.body)) {
    if (sse.event === "status") {
      // The opening snapshot: the summary printed at the end shows the same, so only its state and size matter.
      const status = parseEvent(sse.event, sse.data) as Job;
      final = isFinal(status.state);
      state.view ??= new AnalysisProgress(status.counts.total, print, bar);
      // A job shown as counts and already over: its history (thousands of events, megabytes)
      // would come back as a count and failures the job's view, printed next, shows anyway.
      // Leaving closes the stream. A small job's history (its per-capture lines) is a few dozen events.
      if (final && !state.view.perCapture) {
        state.view.over(status.counts, status.state);
        return true;
      }
      continue;
    }
    if (sse.id) state.lastId = sse.id;
    // Event types added to the API later are not this client's business.
    if (!EVENT_TYPES.has(sse.event)) continue;
    const event = parseEvent(sse.event, sse.data) as JobEvent;
    if (state.filter.isNew(event)) {
      state.shown++;
      state.view?.event(event);
    }
    if (event.type === "job.finished") return true;
  }
  return final;
}

/**
 * Follows a job live over Server-Sent Events until it finishes: a line per event for a small job,
 * counts (and a line per failure) for a big one, the redrawn count on `bar` when it is a terminal.
 * A stream that breaks off before the job's end is reopened with growing pauses, up to RECONNECTS
 * times in a row without news (a long job's stream may drop many times, each after progress); a
 * server that cannot be reached or answers with an HTTP error (404: no such job) is not asked again.
 *
 * @throws ApiError when the server refuses the stream or it cannot be kept open.
 */
export async function followJob(client: ApiClient, jobId: string, print: (line: string) => void, bar: NodeJS.WriteStream = process.stderr): Promise<void> {
  const state: Following = { filter: new EventFilter(), shown: 0 };
  try {
    for (let attempt = 0; ; attempt++) {
      const shownBefore = state.shown;
      let lost: unknown;
      try {
        if (await readOnce(client, jobId, state, print, bar)) return;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        lost = err; // the connection broke mid-stream
      }
      if (state.shown > shownBefore) attempt = 0; // this connection made progress: the budget starts again
      if (attempt === RECONNECTS) {
        const why = lost instanceof Error ? `: ${lost.message}` : "";
        throw new ApiError(`the event stream of job ${jobId} kept ending before the job did${why}`);
      }
      await sleep(RECONNECT_PAUSE_MS * 2 ** attempt);
    }
  } finally {
    state.view?.end();
  }
}

/** How often `--wait` reads the sinks' counts after the analysis. */
const DELIVERY_POLL_MS = 500;

/**
 * After the analysis ended, the sinks may still be shipping: follows `GET /jobs/:id` until every
 * sink it lists that is not stopped (those that reported, and running ones that owe the job lines
 * and have not reported yet) has delivered or rejected every line its routing accepts
 * (deliveryDone), printing each sink's progress (a stopped one's line says so) and what its audit
 * found, and gives up after DELIVERY_STALL_MS without progress (a sink that is down shows its
 * last error). Returns the last status seen.
 */
export async function waitForDelivery(client: ApiClient, jobId: string, print: (line: string) => void): Promise<Job> {
  const shown = new Map<string, string>();
  const audited = new Set<string>();
  let job = await client.job(jobId, 0);
  let lastProgress = Date.now();
  for (;;) {
    const total = published(job);
    for (const [sink, p] of Object.entries(job.sinks)) {
      // A replay (the audit's repair of a skip) is progress too, and so is a sink found stopped (or running again).
      const counts = sinkProgressKey(p);
      if (shown.get(sink) === counts) continue;
      if (p.audit && !audited.has(sink)) {
        audited.add(sink);
        print(`sink ${printable(sink)}: ${formatSinkAudit(jobId, sink, p.audit)}`);
      }
      shown.set(sink, counts);
      lastProgress = Date.now();
      print(formatSinkProgress(sink, p, sinkExpected(p, total)));
    }
    if (deliveryDone(job)) return job;
    if (Date.now() - lastProgress > DELIVERY_STALL_MS) {
      print(Object.keys(job.sinks).length === 0 ? "no sink has reported a delivery yet" : "sinks have not caught up; `brocapi job` shows their progress later");
      return job;
    }
    await sleep(DELIVERY_POLL_MS);
    job = await client.job(jobId, 0);
  }
}
