import { JOB_STATES, type JobState } from "../../cli/api-types.js";
import { listJobs } from "../api/endpoints.js";
import { ApiError } from "../api/http.js";
import { dataTable, fill, h } from "../dom.js";
import { formatCount, formatDuration, formatTime, shortId } from "../format.js";
import { stateBadge } from "./state-badge.js";

const PAGE_SIZE = 20;
/** While the page shows unfinished jobs it reads the list again this often; never otherwise. */
const UNFINISHED_REFRESH_MS = 5000;

/** Filters and the way back through pages, kept while the analyst looks at a job and returns. */
const view = { tag: "", state: "" as JobState | "", cursors: [] as string[] };

/**
 * The jobs, newest first, a page at a time (the api's cursor), filtered by tag and state. Read
 * when shown, after each accepted submission, and every few seconds only while a job it shows
 * is unfinished: a job's own view is the live one.
 */
export function jobList(signal: AbortSignal): { element: HTMLElement; reload(): void } {
  const tag = h("input", { id: "filter-tag", type: "search", autocomplete: "off", value: view.tag });
  const state = h("select", { id: "filter-state" }, h("option", { value: "" }, "any"), JOB_STATES.map((s) => h("option", { value: s, selected: s === view.state }, s)));
  const body = h("div");
  const pager = h("div", { class: "pager" });
  const status = h("p", { class: "muted", role: "status" });

  let timer = 0;
  let latest = 0;
  signal.addEventListener("abort", () => clearTimeout(timer));
  const load = async (): Promise<void> => {
    clearTimeout(timer);
    // Only the newest read may draw: an older one answering late (a slow first page after a
    // filter was applied) would show the wrong jobs.
    const seq = ++latest;
    if (!body.hasChildNodes()) status.textContent = "Loading…";
    const cursor = view.cursors.at(-1);
    try {
      const page = await listJobs({ limit: PAGE_SIZE, ...(view.tag ? { tag: view.tag } : {}), ...(view.state ? { state: view.state } : {}), ...(cursor ? { cursor } : {}) });
      if (signal.aborted || seq !== latest) return;
      if (page.jobs.some((j) => j.state === "queued" || j.state === "running")) timer = window.setTimeout(() => void load(), UNFINISHED_REFRESH_MS);
      status.textContent = page.jobs.length ? "" : view.tag || view.state ? "No job matches these filters." : "No jobs yet.";
      fill(
        body,
        page.jobs.length > 0 &&
          dataTable(
            "Jobs table",
            ["Submitted", "Job", "Tag", "State", { label: "Captures", num: true }, { label: "Took", num: true }],
            page.jobs.map((j) =>
              h(
                "tr",
                null,
                h("td", null, h("time", { datetime: j.submittedAt, title: j.submittedAt }, formatTime(j.submittedAt))),
                h("th", { scope: "row" }, h("a", { href: `#/jobs/${j.id}`, title: j.id }, h("code", null, shortId(j.id)))),
                h("td", null, j.tag ?? h("span", { class: "muted" }, "none")),
                h("td", null, stateBadge(j.state)),
                h("td", { class: "num" }, formatCount(j.files)),
                h("td", { class: "num" }, j.finishedAt ? formatDuration(Date.parse(j.finishedAt) - Date.parse(j.submittedAt)) : ""),
              ),
            ),
          ),
      );
      fill(
        pager,
        h("button", { type: "button", disabled: view.cursors.length === 0, onclick: () => (view.cursors.pop(), void load()) }, "‹ Newer"),
        h("span", { class: "muted" }, `Page ${view.cursors.length + 1}`),
        h("button", { type: "button", disabled: !page.next_cursor, onclick: () => (view.cursors.push(page.next_cursor!), void load()) }, "Older ›"),
      );
    } catch (err) {
      if (signal.aborted || seq !== latest) return;
      status.textContent = err instanceof ApiError ? `${err.httpStatus}: ${err.status}` : `The jobs could not be read: ${(err as Error).message}`;
    }
  };

  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter jobs" },
    h("div", { class: "field" }, h("label", { for: "filter-tag" }, "Tag"), tag),
    h("div", { class: "field" }, h("label", { for: "filter-state" }, "State"), state),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => void load() }, "Refresh"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    view.tag = tag.value.trim();
    view.state = state.value as JobState | "";
    view.cursors = [];
    void load();
  });
  void load();
  return { element: h("section", { class: "panel jobs", "aria-labelledby": "jobs-title" }, h("h2", { id: "jobs-title" }, "Jobs"), form, status, body, pager), reload: () => void load() };
}
