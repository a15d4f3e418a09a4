import type { JobEvent } from "../../cli/api-types.js";
import { SseParser } from "../../cli/sse.js";
import { apiFetch } from "./http.js";
import { urls, type JobStatus } from "./endpoints.js";

export type JobStreamEvent = { type: "status"; status: JobStatus } | JobEvent;

/**
 * Follows `GET /jobs/:id/events` until the api ends it (after job.finished) or `signal` aborts.
 * Read with fetch rather than EventSource, which cannot send an Authorization header. Resolves
 * true when the stream ended after `job.finished`, false when it ended early (the caller
 * reconnects with the same `resume`: the stream then sends the current status and the events
 * after the last one read, by Last-Event-ID, not the job's history again).
 */
export async function followJob(id: string, onEvent: (e: JobStreamEvent) => void, signal: AbortSignal, resume: { lastId?: string } = {}): Promise<boolean> {
  const headers: Record<string, string> = { accept: "text/event-stream", ...(resume.lastId ? { "last-event-id": resume.lastId } : {}) };
  const res = await apiFetch(urls.events(id), { signal, headers });
  const reader = res.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let finished = false;
  const dispatch = (text: string): void => {
    for (const e of parser.push(text)) {
      if (e.id) resume.lastId = e.id;
      const data = JSON.parse(e.data) as unknown;
      const event = e.event === "status" ? { type: "status" as const, status: data as JobStatus } : (data as JobEvent);
      if (event.type === "job.finished") finished = true;
      onEvent(event);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      dispatch(decoder.decode(value, { stream: true }));
    }
    dispatch(decoder.decode());
  } finally {
    reader.releaseLock();
  }
  return finished;
}
