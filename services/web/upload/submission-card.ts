import { wantsBearerToken } from "../api/http.js";
import { askForToken } from "../api/token.js";
import { fill, h } from "../dom.js";
import { formatBytes, shortId } from "../format.js";
import { sendSubmission, type Outcome } from "./send-submission.js";

let cards = 0;

/**
 * One submission: its captures with upload progress each and in total, a Cancel button while it
 * uploads, then the api's answer: the job it queued, or its refusal exactly as the api words it.
 */
export function submissionCard(files: readonly File[], tag: string, onAccepted: (jobId: string) => void): HTMLElement {
  const n = ++cards;
  const total = files.reduce((a, f) => a + f.size, 0);
  const totalBar = h("progress", { id: `total-${n}`, max: "1", value: "0" });
  const totalText = h("span", { class: "percent" }, "0%");
  const fileBars = files.map((f) => ({ bar: h("progress", { max: "1", value: "0", "aria-label": `${f.name} sent` }), text: h("span", { class: "percent" }, "0%") }));
  const cancel = h("button", { type: "button" }, "Cancel upload");
  const outcome = h("div", { class: "outcome", role: "status" }, "Uploading…");
  const card = h(
    "li",
    { class: "submission", "aria-label": `Submission ${n}` },
    h("div", { class: "sub-head" }, h("strong", null, `${files.length} capture${files.length === 1 ? "" : "s"}`), ` · ${formatBytes(total)}`, tag ? ` · tag ${tag}` : " · no tag", cancel),
    h("div", { class: "progress-row" }, h("label", { for: `total-${n}` }, "Total"), totalBar, totalText),
    h(
      "ul",
      { class: "file-progress" },
      files.map((f, i) => h("li", null, h("span", { class: "name", title: f.name }, f.name), h("span", { class: "muted" }, formatBytes(f.size)), fileBars[i]!.bar, fileBars[i]!.text)),
    ),
    outcome,
  );

  // Where each file's bytes start in the body, scaled to the body's size once it is known (the
  // multipart framing adds a few hundred bytes per part).
  const progress = (sent: number, bodyBytes: number): void => {
    const data = (sent / bodyBytes) * total;
    let before = 0;
    files.forEach((f, i) => {
      const share = f.size === 0 ? (data >= before ? 1 : 0) : Math.min(1, Math.max(0, (data - before) / f.size));
      setBar(fileBars[i]!.bar, fileBars[i]!.text, share);
      before += f.size;
    });
    setBar(totalBar, totalText, sent / bodyBytes);
    if (sent === bodyBytes) outcome.textContent = "Sent; waiting for the api’s answer…";
  };

  void (async () => {
    let result: Outcome;
    for (;;) {
      const submission = sendSubmission(files, tag, progress);
      cancel.onclick = () => submission.cancel();
      result = await submission.outcome;
      // Tokens are asked for where the api asks for them; the captures are sent again with one.
      if (result.kind === "refused" && wantsBearerToken(result.httpStatus, result.wwwAuthenticate) && (await askForToken(result.status))) continue;
      break;
    }
    cancel.remove();
    card.classList.add(`outcome-${result.kind}`);
    showOutcome(outcome, result);
    if (result.kind === "accepted") onAccepted(result.answer.job_id);
  })();
  return card;
}

function setBar(bar: HTMLProgressElement, text: HTMLElement, share: number): void {
  bar.value = share;
  text.textContent = `${Math.floor(share * 100)}%`;
}

function showOutcome(el: HTMLElement, result: Outcome): void {
  switch (result.kind) {
    case "accepted":
      fill(el, "Job queued: ", h("a", { href: `#/jobs/${result.answer.job_id}` }, `open job ${shortId(result.answer.job_id)}`));
      return;
    case "refused":
      el.setAttribute("role", "alert");
      fill(el, h("span", { class: "http-status" }, `Refused (${result.httpStatus}${result.code ? ` ${result.code}` : ""}): `), h("span", { class: "api-message" }, result.status));
      return;
    case "cancelled":
      fill(el, "Cancelled. The api keeps nothing of a submission cut short.");
      return;
    case "network":
      el.setAttribute("role", "alert");
      fill(el, "The connection to the api failed before it answered. Look for the job in the list before submitting again.");
      return;
  }
}
