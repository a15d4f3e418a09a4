import { fill, h } from "../dom.js";
import { formatBytes } from "../format.js";
import { droppedFiles } from "./collect-files.js";
import { submissionCard } from "./submission-card.js";

/**
 * Drop or pick captures (files or whole folders), give a tag, upload them as one job. Every
 * submission gets its own card, which outlives the form: several can upload at once, and
 * leaving the page for a job's view does not stop them. The api decides what a capture is; the
 * page does not filter by name or type.
 */
export function uploadPanel(onAccepted: (jobId: string) => void): HTMLElement {
  let chosen: File[] = [];
  const fileInput = h("input", { id: "file-input", type: "file", multiple: true, class: "visually-hidden" });
  const folderInput = h("input", { id: "folder-input", type: "file", webkitdirectory: true, class: "visually-hidden" });
  const tag = h("input", { id: "tag-input", name: "tag", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "tag-hint" });
  const submit = h("button", { type: "submit", class: "primary", disabled: true }, "Upload");
  const clear = h("button", { type: "button", hidden: true }, "Clear");
  const list = h("ul", { class: "chosen", "aria-label": "Captures to upload" });
  const totals = h("p", { class: "muted", role: "status" });
  const submissions = h("ol", { class: "submissions", "aria-label": "Submissions" });
  const zone = h(
    "div",
    { class: "drop-zone", id: "drop-zone" },
    h("p", { class: "drop-title" }, "Drop captures or a folder of captures here"),
    h("p", { class: "muted" }, "pcap or pcapng, as many as you like"),
    h("p", { class: "actions centered" }, fileInput, h("label", { for: "file-input", class: "button" }, "Choose files…"), folderInput, h("label", { for: "folder-input", class: "button" }, "Choose a folder…")),
  );

  const show = (): void => {
    const bytes = chosen.reduce((a, f) => a + f.size, 0);
    fill(
      list,
      chosen.map((f, i) =>
        h(
          "li",
          null,
          h("span", { class: "name", title: f.webkitRelativePath || f.name }, f.name),
          h("span", { class: "muted" }, formatBytes(f.size)),
          h("button", { type: "button", class: "icon", "aria-label": `Remove ${f.name}`, onclick: () => ((chosen = chosen.filter((_, j) => j !== i)), show()) }, "×"),
        ),
      ),
    );
    totals.textContent = chosen.length ? `${chosen.length} capture${chosen.length === 1 ? "" : "s"}, ${formatBytes(bytes)} in all.` : "";
    submit.disabled = chosen.length === 0;
    submit.textContent = chosen.length ? `Upload ${chosen.length} capture${chosen.length === 1 ? "" : "s"}` : "Upload";
    clear.hidden = chosen.length === 0;
  };
  const add = (files: Iterable<File>): void => {
    chosen = [...chosen, ...files];
    show();
  };

  for (const input of [fileInput, folderInput])
    input.addEventListener("change", () => {
      add(input.files ?? []);
      input.value = "";
    });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(add);
  });
  clear.addEventListener("click", () => ((chosen = []), show()));

  const form = h(
    "form",
    { class: "upload-form", "aria-labelledby": "upload-title" },
    zone,
    list,
    totals,
    h("div", { class: "field" }, h("label", { for: "tag-input" }, "Tag"), tag, h("p", { id: "tag-hint", class: "hint" }, "Optional. Kept with the job and sent with every log line, e.g. case42.")),
    h("div", { class: "actions" }, submit, clear),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (chosen.length === 0) return;
    submissions.prepend(submissionCard(chosen, tag.value.trim(), onAccepted));
    chosen = [];
    show();
  });
  return h("section", { class: "panel upload", "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, "Upload captures"), form, submissions);
}
