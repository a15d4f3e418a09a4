import { isFinal, type JobFile } from "../../cli/api-types.js";
import { DELIVERY_STALL_MS, deliveryDone, deliveryProgress, published, sinkExpected } from "../../cli/delivery.js";
import { formatSinkAudit } from "../../cli/format.js";
import { deleteJob, loadCaptures, loadJob, urls, type JobSummary } from "../api/endpoints.js";
import { followJob } from "../api/events.js";
import { ApiError } from "../api/http.js";
import { confirmDialog } from "../dialog.js";
import { dataTable, fill, h } from "../dom.js";
import { downloadLink } from "../download.js";
import { formatBytes, formatCount, formatDuration, formatTime, shortId } from "../format.js";
import { notify } from "../notice.js";
import { addCaptures, applyJobEvent, type JobModel } from "./job-model.js";
import { stateBadge } from "./state-badge.js";

/** Status reads after events are coalesced: the events carry the news, a read adds Zeek's stderr and times. */
const REFRESH_DELAY_MS = 1500;
const RECONNECT_MAX_MS = 10_000;
const LIVE = "● Live";
/** After the analysis: how often the sinks' counts are read. */
const DELIVERY_POLL_MS = 1000;

/** `#/jobs/:id`: the job's status, then, while it is not final, the job followed live through its events. */
export function jobView(root: HTMLElement, id: string, signal: AbortSignal): void {
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  const heading = h("div", { class: "job-heading" });
  const captureTable = h("div");
  const moreStatus = h("span", { class: "muted", role: "status" });
  const moreButton = h("button", { type: "button" }, "Show more captures");
  const moreLine = h("p", { class: "more-captures", hidden: true }, moreStatus, " ", moreButton);
  const captures = h("section", { "aria-labelledby": "captures-title" }, h("h2", { id: "captures-title" }, "Captures"), captureTable, moreLine);
  const logs = h("section", { "aria-labelledby": "logs-title" });
  const sinks = h("section", { "aria-labelledby": "sinks-title" });
  const deleteButton = h("button", { type: "button", class: "danger" }, "Delete job…");
  fill(
    root,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Jobs"), " / ", shortId(id)),
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Job ", h("code", null, id)), h("div", { class: "actions" }, live, downloadLink(urls.logsArchive(id), `${id}-logs.tar.gz`, "Download all logs (logs.tar.gz)"), deleteButton)),
    heading,
    captures,
    logs,
    sinks,
  );

  let model = null as JobModel | null;
  const warningsOpen = new Set<number>();
  let frame = 0;
  let loadingMore = false;
  const showMore = (): void => {
    const cursor = model?.moreCaptures;
    if (!cursor || loadingMore) return;
    loadingMore = true;
    render();
    loadCaptures(id, { cursor }, signal).then(
      (page) => {
        loadingMore = false;
        if (model) update(addCaptures(model, page));
      },
      (err: Error) => {
        loadingMore = false;
        if (signal.aborted) return;
        notify(`More captures could not be read: ${err.message}`, "error");
        render();
      },
    );
  };
  moreButton.addEventListener("click", showMore);
  const render = (): void => {
    frame = 0;
    if (!model) return;
    renderHeading(heading, model.summary);
    renderCaptures(captureTable, model, warningsOpen);
    moreLine.hidden = !model.moreCaptures;
    moreStatus.textContent = `Showing ${formatCount(model.captures.size)} of ${formatCount(model.summary.captureCount)} captures.`;
    moreButton.disabled = loadingMore;
    moreButton.textContent = loadingMore ? "Loading captures…" : "Show more captures";
    renderLogs(logs, model.summary);
    renderSinks(sinks, model.summary);
  };
  const update = (next: JobModel | null): void => {
    model = next;
    frame ||= requestAnimationFrame(render);
  };

  let refreshTimer = 0;
  const refresh = (): void => {
    clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(() => {
      loadJob(id, signal).then((status) => update(applyJobEvent(model, { type: "status", status })), () => undefined);
    }, REFRESH_DELAY_MS);
  };
  signal.addEventListener("abort", () => clearTimeout(refreshTimer));

  /**
   * The event stream ends with the analysis, while the sinks may still be shipping: reads the
   * status (without captures: the counts are all it needs) until delivery is done (deliveryDone),
   * or no count moved for DELIVERY_STALL_MS (a sink that is down shows its last error), as
   * `brocapi submit --wait` does.
   */
  const followDeliveries = async (): Promise<void> => {
    let last = "";
    let stalledSince = Date.now();
    while (!signal.aborted && model && !deliveryDone(model.summary) && Date.now() - stalledSince < DELIVERY_STALL_MS) {
      await new Promise((r) => setTimeout(r, DELIVERY_POLL_MS));
      const status = await loadJob(id, signal, 0).catch(() => null);
      if (!status) continue;
      update(applyJobEvent(model, { type: "status", status }));
      const now = deliveryProgress(status.sinks);
      if (now !== last) {
        last = now;
        stalledSince = Date.now();
      }
    }
  };

  deleteButton.addEventListener("click", async () => {
    const n = model?.summary.captureCount ?? 0;
    const ok = await confirmDialog(
      "Delete this job?",
      `Job ${id}${model?.summary.tag ? ` (tag ${model.summary.tag})` : ""}: its ${n} capture${n === 1 ? "" : "s"}, the log lines Brocapi keeps, its events and its record are removed. What sinks already delivered stays where it is.`,
      "Delete job",
    );
    if (!ok) return;
    try {
      await deleteJob(id);
      notify(`Job ${id} deleted.`);
      location.hash = "#/";
    } catch (err) {
      notify(`Job ${id} was not deleted: ${(err as Error).message}`, "error");
    }
  });

  void (async () => {
    const resume: { lastId?: string } = {};
    // Reconnection pauses grow only while connections bring no news (as the CLI's): a long job's
    // stream that drops now and then is not reopened ever more slowly.
    let quiet = 0;
    for (let attempt = 0; !signal.aborted; attempt++) {
      const lastBefore = resume.lastId;
      try {
        live.textContent = attempt === 0 ? "Connecting…" : LIVE;
        // The status first: a final job's says everything, and its event stream would replay the
        // job's whole history (for 10,000 captures, megabytes) only to end. The stream is opened
        // for a job still under way, and again after a drop only while it still is.
        const status = await loadJob(id, signal);
        update(applyJobEvent(model, { type: "status", status }));
        const finished =
          isFinal(status.state) ||
          (await followJob(
            id,
            (event) => {
              live.textContent = LIVE;
              update(applyJobEvent(model, event));
              if (event.type === "file.finished" || event.type === "file.warning" || event.type === "job.finished") refresh();
            },
            signal,
            resume,
          ));
        if (finished || (model && isFinal(model.summary.state))) {
          live.textContent = "Job finished";
          await followDeliveries();
          return;
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.httpStatus < 500) {
          live.textContent = "";
          fill(heading, h("p", { class: "api-message", role: "alert" }, `${err.httpStatus}: ${err.status}`));
          return;
        }
      }
      live.textContent = "Reconnecting…";
      if (resume.lastId !== lastBefore) quiet = 0;
      await new Promise((r) => setTimeout(r, Math.min(RECONNECT_MAX_MS, 1000 * 2 ** quiet++)));
    }
  })();
}

function renderHeading(el: HTMLElement, s: JobSummary): void {
  const took = s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt ?? s.submittedAt) : null;
  fill(
    el,
    h(
      "dl",
      { class: "facts" },
      fact("State", stateBadge(s.state)),
      fact("Tag", s.tag ?? h("span", { class: "muted" }, "none")),
      fact("Captures", formatCount(s.captureCount)),
      fact("Submitted", h("time", { datetime: s.submittedAt, title: s.submittedAt }, formatTime(s.submittedAt))),
      s.finishedAt && fact("Finished", h("time", { datetime: s.finishedAt, title: s.finishedAt }, formatTime(s.finishedAt))),
      took !== null && fact("Took", formatDuration(took)),
      fact("Log format", s.format),
    ),
  );
}

function fact(term: string, value: Node | string): HTMLElement {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}

function renderCaptures(el: HTMLElement, model: JobModel, warningsOpen: Set<number>): void {
  const rows: HTMLElement[] = [];
  for (const c of [...model.captures.values()].sort((a, b) => a.index - b.index)) {
    rows.push(
      h(
        "tr",
        { class: `capture state-row-${c.state}` },
        h("td", { class: "num" }, c.index),
        h("th", { scope: "row" }, h("span", { class: "name" }, c.name), h("span", { class: "muted", title: `SHA-256 ${c.sha256}` }, ` ${formatBytes(c.size)}`)),
        h("td", null, stateBadge(c.state), c.salvaged ? h("span", { class: "muted" }, " salvaged") : null, c.attempts > 1 ? h("span", { class: "muted" }, ` attempt ${c.attempts}`) : null),
        h("td", { class: "num" }, c.durationMs !== undefined ? formatDuration(c.durationMs) : c.state === "running" ? "…" : ""),
        h("td", null, lineSummary(c.lines)),
        h("td", null, downloadLink(urls.capture(model.summary.id, c.index), c.name, "pcap", h("span", { class: "visually-hidden" }, ` ${c.name}`))),
      ),
    );
    const detail = failureDetail(c, warningsOpen);
    if (detail) rows.push(h("tr", { class: "capture-detail" }, h("td", null), h("td", { colspan: "5" }, detail)));
  }
  fill(
    el,
    dataTable("Captures table", [{ label: "#", num: true }, "Capture", "State", { label: "Duration", num: true }, "Lines per log", "Download"], rows),
  );
}

/** Why a capture failed, in Zeek's words; on one that worked, what was salvaged and Zeek's warnings (folded). */
function failureDetail(c: JobFile, warningsOpen: Set<number>): HTMLElement | null {
  const stderr = c.zeekStderr?.trim();
  if (c.state === "failed") {
    const exit = c.zeekExitCode !== undefined ? `Zeek exited with code ${c.zeekExitCode}` : "Failed";
    const code = c.error ? h("code", null, c.error.code) : null;
    return h(
      "div",
      { class: "failure" },
      stderr
        ? [h("p", null, exit, code && [" (", code, ")"], ". Zeek's stderr:"), h("pre", { class: "stderr", "aria-label": `Zeek's stderr for ${c.name}`, tabindex: "0" }, stderr)]
        : h("p", null, exit, code && [": ", code, " ", c.error!.message]),
    );
  }
  const salvaged = c.salvaged
    ? h("p", { class: "warning" }, `Salvaged: the capture was cut mid-packet; Zeek analysed its first ${formatCount(c.salvaged.packetsKept)} packets (${formatBytes(c.salvaged.bytesKept)}), ${formatBytes(c.salvaged.bytesDropped)} dropped.`)
    : null;
  if (!stderr) return salvaged;
  const details = h("details", { open: warningsOpen.has(c.index) }, h("summary", null, "Zeek's warnings"), h("pre", { class: "stderr", tabindex: "0" }, stderr));
  details.addEventListener("toggle", () => (details.open ? warningsOpen.add(c.index) : warningsOpen.delete(c.index)));
  return h("div", null, salvaged, details);
}

function lineSummary(lines: Record<string, number>): HTMLElement {
  const entries = Object.entries(lines).sort(([a], [b]) => a.localeCompare(b));
  return h("span", { class: "line-counts" }, entries.length ? entries.map(([type, n]) => h("span", null, h("span", { class: "muted" }, type), ` ${formatCount(n)}`)) : "");
}

function renderLogs(el: HTMLElement, s: JobSummary): void {
  const types = Object.entries(s.lines).sort(([a], [b]) => a.localeCompare(b));
  const rows = types.map(([type, n]) =>
    h(
      "tr",
      null,
      h("th", { scope: "row" }, type),
      h("td", { class: "num" }, formatCount(n)),
      h("td", null, h("a", { href: `#/jobs/${s.id}/logs/${encodeURIComponent(type)}` }, "Preview", h("span", { class: "visually-hidden" }, ` ${type}`))),
      h(
        "td",
        { class: "links" },
        downloadLink(urls.log(s.id, type), `${type}.log`, `${type}.log`),
        s.format === "tsv" ? downloadLink(urls.log(s.id, type, "json"), `${type}.json`, `${type}.json`) : null,
      ),
    ),
  );
  fill(
    el,
    h("h2", { id: "logs-title" }, "Logs"),
    types.length === 0
      ? h("p", { class: "muted" }, isFinal(s.state) ? "No log lines." : "Logs appear as captures finish.")
      : dataTable("Logs table", ["Log", { label: "Lines", num: true }, "Preview", "Download"], rows),
  );
}

function renderSinks(el: HTMLElement, s: JobSummary): void {
  const total = published(s);
  const sinks = Object.entries(s.sinks).sort(([a], [b]) => a.localeCompare(b));
  const rows = sinks.map(([name, p]) =>
    h(
      "tr",
      null,
      h("th", { scope: "row" }, name),
      h("td", { class: "num" }, formatCount(p.lines)),
      h("td", { class: "num" }, formatCount(p.rejected ?? 0)),
      h("td", { class: "num" }, formatCount(p.replayed ?? 0)),
      h("td", { class: "num" }, formatCount(sinkExpected(p, total))),
      h(
        "td",
        null,
        p.lastError ? h("span", { class: "error-text" }, p.lastError, p.lastErrorAt ? h("span", { class: "muted" }, ` (${formatTime(p.lastErrorAt)})`) : null) : p.audit || p.running === false ? null : h("span", { class: "muted" }, "none"),
        // The audit's finding: lines missing once nothing was pending, and whether a replay repairs it.
        p.audit ? h("div", { class: "error-text" }, formatSinkAudit(s.id, name, p.audit)) : null,
        // Stopped: not waited for; what it owes the job ships when it runs again.
        p.running === false ? h("div", { class: "muted" }, `Not running, last seen ${p.seenAt ? formatTime(p.seenAt) : "at an unknown time"}: not waited for`) : null,
      ),
    ),
  );
  fill(
    el,
    h("h2", { id: "sinks-title" }, "Sinks"),
    sinks.length === 0
      ? h("p", { class: "muted" }, "No sink has reported lines of this job yet.")
      : dataTable("Sinks table", ["Sink", { label: "Lines delivered", num: true }, { label: "Rejected", num: true }, { label: "Replayed", num: true }, { label: "Expected", num: true }, "Last error, state"], rows),
  );
}
