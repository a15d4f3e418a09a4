import { listLogs, openLog, urls } from "../api/endpoints.js";
import { ApiError } from "../api/http.js";
import { fill, h, scrollBox } from "../dom.js";
import { downloadLink } from "../download.js";
import { formatCount, shortId } from "../format.js";
import { LogTableReader, type LogTable } from "./log-table.js";
import { readLines } from "./read-lines.js";

const SIZES = [100, 500, 2000];
const DEFAULT_SIZE = 500;

/** Hidden columns per log type are a display preference, kept in this browser. */
const hiddenKey = (type: string): string => `brocapi.hidden-columns.${type}`;

/** `#/jobs/:id/logs/:type`: the first records of one log as a table, with columns and search. */
export function logPreview(root: HTMLElement, id: string, type: string, signal: AbortSignal): void {
  const summary = h("p", { class: "muted", role: "status" }, "Reading…");
  const search = h("input", { id: "preview-search", type: "search", autocomplete: "off", placeholder: "address, uid, host…" });
  const size = h("select", { id: "preview-size" }, SIZES.map((n) => h("option", { value: String(n), selected: n === DEFAULT_SIZE }, formatCount(n))));
  const columnsBox = h("details", { class: "columns" });
  const downloads = h("p", { class: "links" });
  const tableBox = scrollBox(`${type} records`);
  tableBox.classList.add("preview");
  const matches = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  fill(
    root,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Jobs"), " / ", h("a", { href: `#/jobs/${id}` }, shortId(id)), " / ", type),
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, h("code", null, type), " log"), downloads),
    summary,
    h(
      "div",
      { class: "preview-controls" },
      h("div", { class: "field" }, h("label", { for: "preview-search" }, "Search in the preview"), search),
      h("div", { class: "field" }, h("label", { for: "preview-size" }, "Records"), size),
      columnsBox,
    ),
    matches,
    tableBox,
  );

  let table: LogTable | null = null;
  let hidden = new Set<string>(JSON.parse(localStorage.getItem(hiddenKey(type)) ?? "[]") as string[]);
  const visible = (): string[] => table?.columns.filter((c) => !hidden.has(c)) ?? [];

  const renderTable = (): void => {
    if (!table) return;
    const query = search.value.trim().toLowerCase();
    const cols = visible();
    const rows = query ? table.rows.filter((r) => cols.some((c) => r[c]?.toLowerCase().includes(query))) : table.rows;
    matches.textContent = query ? `${formatCount(rows.length)} of ${formatCount(table.rows.length)} records match “${search.value.trim()}”.` : "";
    const t = table;
    fill(
      tableBox,
      h(
        "table",
        { class: "log-table" },
        h("caption", { class: "visually-hidden" }, `First records of the ${type} log`),
        h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col", title: t.types[c] ?? "" }, c)))),
        h("tbody", null, rows.map((r) => h("tr", null, cols.map((c) => cell(r[c] ?? "", t.types[c], query))))),
      ),
    );
  };

  const renderColumns = (): void => {
    if (!table) return;
    const boxes = table.columns.map((c) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          name: "column",
          value: c,
          checked: !hidden.has(c),
          onchange: (e: Event) => {
            const on = (e.target as HTMLInputElement).checked;
            hidden = new Set(on ? [...hidden].filter((x) => x !== c) : [...hidden, c]);
            localStorage.setItem(hiddenKey(type), JSON.stringify([...hidden]));
            summaryText.textContent = columnsLabel();
            renderTable();
          },
        }),
        " ",
        c,
      ),
    );
    const summaryText = h("span", null, columnsLabel());
    fill(columnsBox, h("summary", null, summaryText), h("fieldset", null, h("legend", { class: "visually-hidden" }, "Columns to show"), boxes));
  };
  const columnsLabel = (): string => `Columns: ${visible().length} of ${table?.columns.length ?? 0}`;

  const load = async (limit: number): Promise<void> => {
    const [logs, body] = await Promise.all([listLogs(id, signal), openLog(id, type, signal)]);
    const reader = new LogTableReader();
    let json = false;
    for await (const line of readLines(body)) {
      json ||= line.startsWith("{");
      reader.push(line);
      if (reader.table.rows.length >= limit) break;
    }
    table = reader.table;
    const total = logs.find((l) => l.type === type)?.lines ?? table.rows.length;
    summary.textContent = `The first ${formatCount(table.rows.length)} of ${formatCount(total)} records${json ? " (JSON lines)" : " (Zeek TSV)"}.`;
    fill(
      downloads,
      downloadLink(urls.log(id, type), `${type}.log`, `Download ${type}.log`),
      json ? null : downloadLink(urls.log(id, type, "json"), `${type}.json`, `as JSON`),
      downloadLink(urls.logsArchive(id), `${id}-logs.tar.gz`, "All logs (logs.tar.gz)"),
    );
    renderColumns();
    renderTable();
  };
  const reload = (): void => {
    load(Number(size.value)).catch((err: unknown) => {
      if (signal.aborted) return;
      summary.textContent = err instanceof ApiError ? `${err.httpStatus}: ${err.status}` : `The log could not be read: ${(err as Error).message}`;
      summary.setAttribute("role", "alert");
    });
  };
  search.addEventListener("input", renderTable);
  size.addEventListener("change", reload);
  reload();
}

function cell(value: string, type: string | undefined, query: string): HTMLElement {
  const attrs: Record<string, string> = {};
  if (type === "time" && /^\d+(\.\d+)?$/.test(value)) attrs.title = new Date(Number(value) * 1000).toISOString();
  if (query && value.toLowerCase().includes(query)) attrs.class = "hit";
  return h("td", attrs, value);
}
