/** Says something in the page's status line (announced by screen readers), e.g. "Job deleted". */
export function notify(text: string, kind: "info" | "error" = "info"): void {
  const line = document.getElementById("notice");
  if (!line) return;
  line.textContent = text;
  line.className = `notice ${kind}`;
  line.hidden = false;
}
