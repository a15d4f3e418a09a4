import { currentToken, forgetToken } from "./api/token.js";
import { fill, h } from "./dom.js";
import { jobList } from "./jobs/job-list.js";
import { jobView } from "./jobs/job-view.js";
import { logPreview } from "./logs/log-preview.js";
import { uploadPanel } from "./upload/upload-panel.js";

// Routes live in the URL's fragment, so the api serves one page at / and never a path that an
// API route could want.
const main = document.getElementById("main")!;
let reloadJobs: (() => void) | null = null;
// One upload panel for the page's life: uploads go on while the analyst looks at a job.
const upload = uploadPanel(() => reloadJobs?.());
let route = new AbortController();

function show(): void {
  route.abort();
  route = new AbortController();
  const { signal } = route;
  reloadJobs = null;
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const preview = /^jobs\/([^/]+)\/logs\/([^/]+)$/.exec(hash);
  const job = /^jobs\/([^/]+)$/.exec(hash);
  if (preview) {
    logPreview(main, preview[1]!, preview[2]!, signal);
    document.title = `${preview[2]} log · Brocapi`;
  } else if (job) {
    jobView(main, job[1]!, signal);
    document.title = `Job ${job[1]} · Brocapi`;
  } else {
    const jobs = jobList(signal);
    reloadJobs = jobs.reload;
    fill(main, h("h1", { class: "visually-hidden", tabindex: "-1" }, "Upload captures and follow jobs"), h("div", { class: "home" }, upload, jobs.element));
    document.title = "Brocapi";
  }
  // After a route change the keyboard and screen reader start at the new page's heading.
  if (document.activeElement !== document.body) main.querySelector<HTMLElement>("h1")?.focus();
}

function showTokenState(): void {
  const slot = document.getElementById("token-state")!;
  fill(slot, currentToken() ? h("button", { type: "button", onclick: () => forgetToken() }, "Forget API token") : null);
}

// The skip link must not change the fragment: that is the router's.
document.querySelector(".skip")?.addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", show);
document.addEventListener("brocapi:token", showTokenState);
showTokenState();
show();
