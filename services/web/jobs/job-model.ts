import type { JobFile, LineCounts } from "../../cli/api-types.js";
import type { JobStreamEvent } from "../api/events.js";
import { capturesOf, summaryOf, type CapturePage, type JobSummary } from "../api/endpoints.js";

/** What the job view shows, kept up to date by the job's events between status reads. */
export interface JobModel {
  summary: JobSummary;
  /** The captures loaded so far, by index. */
  captures: Map<number, JobFile>;
  moreCaptures: string | null;
}

/**
 * Applies one event of `/jobs/:id/events`. The stream starts with the current status and then
 * replays the job's whole history before following it live, so every change sets a value (never
 * adds to one): the replay passes through older values and ends at the newest.
 */
export function applyJobEvent(model: JobModel | null, event: JobStreamEvent): JobModel | null {
  if (event.type === "status") {
    const page = capturesOf(event.status);
    const summary = summaryOf(event.status);
    if (!model) return { summary, captures: new Map(page.captures.map((c) => [c.index, c])), moreCaptures: page.next };
    // A status carries the first page only: it updates those captures and keeps the ones loaded
    // further on ("Show more captures"), and where to read on from.
    const captures = new Map(model.captures);
    for (const c of page.captures) captures.set(c.index, c);
    const loadedFurther = model.captures.size > page.captures.length;
    return { summary, captures, moreCaptures: page.next === null ? null : loadedFurther ? model.moreCaptures : page.next };
  }
  if (!model) return model;
  const { summary } = model;
  switch (event.type) {
    case "file.started": {
      if (summary.state === "queued") summary.state = "running";
      updateCapture(model, event.fileIndex, (c) => {
        c.state = "running";
        c.startedAt = event.at;
        c.attempts = event.attempt;
      });
      break;
    }
    case "file.finished": {
      updateCapture(model, event.fileIndex, (c) => {
        c.state = event.state;
        c.lines = event.lines;
        c.finishedAt = event.at;
        if (c.startedAt) c.durationMs = Date.parse(event.at) - Date.parse(c.startedAt);
        if (event.error) c.error = event.error;
      });
      if (model.captures.size === summary.captureCount) summary.lines = sumLines([...model.captures.values()]);
      break;
    }
    case "lines.delivered":
      // An event without lastError does not clear the one already known: the last error stays last.
      summary.sinks[event.sink] = {
        ...summary.sinks[event.sink],
        lines: event.lines,
        ...(event.rejected !== undefined ? { rejected: event.rejected } : {}),
        ...(event.replayed !== undefined ? { replayed: event.replayed } : {}),
        ...(event.lastError ? { lastError: event.lastError, lastErrorAt: event.at } : {}),
        updatedAt: event.at,
      };
      break;
    case "job.finished":
      summary.state = event.state;
      summary.finishedAt = event.at;
      break;
    case "job.queued":
    case "file.warning": // the status read it triggers brings the record's account (e.g. `salvaged`)
      break;
  }
  return model;
}

/** The next page of captures (`GET /jobs/:id/captures`) added to those loaded. */
export function addCaptures(model: JobModel, page: CapturePage): JobModel {
  const captures = new Map(model.captures);
  for (const c of page.captures) captures.set(c.index, c);
  return { ...model, captures, moreCaptures: page.next };
}

function updateCapture(model: JobModel, index: number, change: (c: JobFile) => void): void {
  const capture = model.captures.get(index);
  if (capture) change(capture);
}

function sumLines(captures: readonly JobFile[]): LineCounts {
  const lines: LineCounts = {};
  for (const c of captures) for (const [type, n] of Object.entries(c.lines)) lines[type] = (lines[type] ?? 0) + n;
  return lines;
}
