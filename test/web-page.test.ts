// The analysts' page in a real browser (Debian's Chromium through playwright-core) against a real
// api, worker and sink on a real nats-server: what an analyst does, and what the api then holds.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startWorker } from "../services/worker/worker.js";
import { deleteJob } from "../shared/jobs/delete-job.js";
import { newJobId } from "../shared/jobs/job-id.js";
import { LIVE_FOR_MS } from "../shared/jobs/sink-presence.js";
import { JobStore } from "../shared/jobs/job-store.js";
import type { RunningService } from "../shared/service/context.js";
import { accessibilityViolations, launchChromium, screenshotDir } from "./helpers/browser.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { TRACES } from "./helpers/recordings.js";
import { addStoppedInstance } from "./helpers/sinks-registry.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";
import { writeTokensFile } from "./helpers/tokens.js";

const CAPTURES = ["http-get.pcap", "wikipedia.pcap"];

let nats: TestNats;
let stack: Stack;
let browser: Browser;
let worker: RunningService | null = null;
let shots: string;

before(async () => {
  nats = await startTestNats();
  // The worker starts only once the page shows the job queued, so the page must follow it live.
  stack = await startStack({ natsUrl: nats.url, services: ["api", "shipper"] });
  browser = await launchChromium();
  shots = await screenshotDir();
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await stack?.stop();
  await nats?.cleanup();
});

/** A page that records every request it makes, to show it never leaves the api's origin. */
async function openPage(options: { colorScheme?: "light" | "dark"; bypassCSP?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; requests: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, acceptDownloads: true, colorScheme: options.colorScheme ?? "light", bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${stack.url}/`);
  return { context, page, requests, errors };
}

/** Drops files on the drop zone as a file manager would (a DataTransfer with File objects). */
async function dropFiles(page: Page, files: Array<{ name: string; data: Buffer }>): Promise<void> {
  const transfer = await page.evaluateHandle((list) => {
    // Runs in the page; the test's own TypeScript has no DOM types.
    const page = globalThis as unknown as { DataTransfer: new () => { items: { add(f: File): void } } };
    const dt = new page.DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files.map((f) => ({ name: f.name, b64: f.data.toString("base64") })));
  await page.dispatchEvent("#drop-zone", "drop", { dataTransfer: transfer });
}

function tarEntryNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString("utf8").replace(/\0.*$/s, "");
    if (!name) break;
    const size = parseInt(tar.subarray(off + 124, off + 136).toString("utf8").replace(/\0.*$/s, "").trim(), 8);
    names.push(name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

let jobId = "";

test("the page and its files carry a content security policy, nosniff, no referrer and revalidation", async () => {
  for (const path of ["/", "/ui/style.css", "/ui/icon.svg"]) {
    const res = await fetch(`${stack.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'.*script-src 'self'/, path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
    assert.equal(res.headers.get("cache-control"), "no-cache", path);
  }
});

test("two captures dropped on the page upload as one job, followed live to done", async () => {
  // An instance that owes jobs their conn lines but was last seen running longer ago than
  // LIVE_FOR_MS (as its shipper left the registry when it stopped): shown, not waited for.
  const lastSeen = new Date(Date.now() - LIVE_FOR_MS - 5_000).toISOString();
  await addStoppedInstance(stack.ctx.topology.sinks, "gone", ["conn"], lastSeen);
  const { context, page, requests, errors } = await openPage();
  await dropFiles(page, await Promise.all(CAPTURES.map(async (name) => ({ name, data: await readFile(join(TRACES, name)) }))));
  await page.getByLabel("Tag").first().fill("case42");
  await page.getByRole("button", { name: "Upload 2 captures" }).click();
  const card = page.locator(".submission").first();
  const link = card.getByRole("link", { name: /open job/ });
  await link.waitFor();
  assert.deepEqual(await card.locator(".file-progress .percent").allTextContents(), ["100%", "100%"]);
  jobId = (await link.getAttribute("href"))!.replace("#/jobs/", "");

  await link.click();
  const rows = page.locator("tr.capture");
  await rows.first().waitFor();
  assert.deepEqual(await rows.locator(".badge").allTextContents(), ["queued", "queued"]);
  await page.evaluate(() => ((globalThis as unknown as { stayed: boolean }).stayed = true));
  worker ??= await startWorker(stack.ctx);

  await page.locator(".live", { hasText: "Job finished" }).waitFor({ timeout: 30_000 });
  // The view draws on the next animation frame, which may come just after the stream's end.
  await eventually(async () => (await rows.locator(".badge").allTextContents()).join() === "done,done", 30_000, "both captures shown done");
  assert.equal(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed), true, "followed without reloading");
  const status = (await (await fetch(`${stack.url}/jobs/${jobId}`)).json()) as { state: string; lines: Record<string, number>; files: Array<{ lines: Record<string, number> }> };
  assert.equal(status.state, "done");
  await page.locator(".facts .badge", { hasText: "done" }).waitFor();
  // Lines per log type of each capture, as the api counts them.
  for (const [i, f] of status.files.entries()) {
    for (const [type, n] of Object.entries(f.lines)) assert.match(await rows.nth(i).locator(".line-counts").textContent() ?? "", new RegExp(`${type} ${n.toLocaleString("en-US")}(?![0-9,])`));
  }
  // Each sink's delivered count reaches what was published.
  const published = Object.values(status.lines).reduce((a, b) => a + b, 0);
  // Shipping goes on after the analysis; with another test file running beside this one it has
  // taken more than 15 s here. On a timeout, say what the api counted.
  await page
    .locator("section", { has: page.locator("#sinks-title") })
    .locator("tbody tr", { hasText: "directory" })
    .locator("td.num")
    .first()
    .filter({ hasText: published.toLocaleString("en-US") })
    .waitFor({ timeout: 60_000 })
    .catch(async (err: Error) => {
      const sinks = ((await (await fetch(`${stack.url}/jobs/${jobId}`)).json()) as { sinks?: unknown }).sinks;
      throw new Error(`${err.message}\npublished ${published}; the api's sink counts: ${JSON.stringify(sinks)}`);
    });
  const gone = page.locator("section", { has: page.locator("#sinks-title") }).locator("tbody tr", { hasText: "gone" });
  // Its row comes with a status read after the job's end (what it owes is counted from the job's
  // lines), 1.5 s after job.finished: the directory's count above may come first, by its event.
  const conn = (status.lines.conn ?? 0).toLocaleString("en-US");
  await gone.locator("td.num").last().filter({ hasText: new RegExp(`^${conn}$`) }).waitFor({ timeout: 30_000 });
  assert.deepEqual(await gone.locator("td.num").allTextContents(), ["0", "0", "0", conn], "0 of its conn lines");
  assert.match((await gone.textContent()) ?? "", /Not running, last seen .*: not waited for/);
  await page.screenshot({ path: join(shots, "job.png"), fullPage: true });

  assert.deepEqual(errors, []);
  for (const url of requests) assert.equal(new URL(url).origin, new URL(stack.url).origin, `request outside the api: ${url}`);
  await context.close();
});

test("the conn preview reads the TSV's #fields; columns and search work; logs.tar.gz downloads", async () => {
  assert.ok(jobId, "the upload test ran first");
  const { context, page, requests } = await openPage();
  await page.goto(`${stack.url}/#/jobs/${jobId}`);
  await page.getByRole("link", { name: "Preview conn" }).click();
  const table = page.locator("table.log-table");
  await table.waitFor();

  const conn = await (await fetch(`${stack.url}/jobs/${jobId}/logs/conn`)).text();
  const fields = conn.split("\n").find((l) => l.startsWith("#fields"))!.split("\t").slice(1);
  const records = conn.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.deepEqual(await table.locator("thead th").allTextContents(), fields);
  assert.equal(await table.locator("tbody tr").count(), records.length);
  const first = records[0]!.split("\t");
  assert.deepEqual(await table.locator("tbody tr").first().locator("td").allTextContents(), first);

  // Search within the preview: the rows holding one responder address.
  const address = first[fields.indexOf("id.resp_h")]!;
  await page.getByLabel("Search in the preview").fill(address);
  const matching = records.filter((r) => r.toLowerCase().includes(address.toLowerCase())).length;
  assert.equal(await table.locator("tbody tr").count(), matching);
  assert.match((await page.getByRole("status").filter({ hasText: "records match" }).textContent()) ?? "", new RegExp(`^${matching} of ${records.length} records match`));

  // Choosing columns: uid hidden, then shown again.
  await page.getByText(/^Columns: /).click();
  await page.getByRole("checkbox", { name: "uid", exact: true }).uncheck();
  assert.deepEqual(await table.locator("thead th").allTextContents(), fields.filter((f) => f !== "uid"));
  await page.screenshot({ path: join(shots, "conn-preview.png") });
  await page.getByRole("checkbox", { name: "uid", exact: true }).check();

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "All logs (logs.tar.gz)" }).click()]);
  assert.equal(download.suggestedFilename(), `${jobId}-logs.tar.gz`);
  const tar = gunzipSync(await readFile((await download.path())!));
  const types = Object.keys(((await (await fetch(`${stack.url}/jobs/${jobId}`)).json()) as { lines: Record<string, number> }).lines).sort();
  assert.deepEqual(tarEntryNames(tar).sort(), types.map((t) => `${jobId}/${t}.log`));
  assert.ok(tar.includes(Buffer.from(conn)), "the archive's conn.log is the api's conn log");

  // Each original capture downloads from the job's view.
  await page.getByRole("link", { name: jobId.slice(-12) }).click();
  const [capture] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: `pcap ${CAPTURES[0]}` }).click()]);
  assert.equal(capture.suggestedFilename(), CAPTURES[0]);
  assert.ok((await readFile((await capture.path())!)).equals(await readFile(join(TRACES, CAPTURES[0]!))), "the capture as uploaded");

  for (const url of requests) assert.equal(new URL(url).origin, new URL(stack.url).origin, `request outside the api: ${url}`);
  await context.close();
});

test("a finished job's view comes from its status alone: no request to its event stream, which would replay the job's history", async () => {
  assert.ok(jobId, "the upload test ran first");
  const { context, page, requests, errors } = await openPage();
  await page.goto(`${stack.url}/#/jobs/${jobId}`);
  await page.locator(".live", { hasText: "Job finished" }).waitFor();
  await eventually(async () => (await page.locator("tr.capture .badge").allTextContents()).join() === "done,done", 30_000, "both captures shown done");
  assert.ok(await page.locator(".facts dt", { hasText: "Finished" }).isVisible(), "the finish time, from the status");
  const paths = requests.map((u) => new URL(u).pathname);
  assert.ok(paths.includes(`/jobs/${jobId}`), "the status was read");
  assert.deepEqual(paths.filter((p) => p.endsWith("/events")), [], "no event stream opened");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a text file is refused per submission in the api's words; cancel stops an upload and queues nothing", async () => {
  const { context, page } = await openPage();
  const text = { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a capture\n") };
  const expected = await submit(stack.url, [{ name: text.name, data: text.buffer }]);
  assert.equal(expected.httpStatus, 415);

  await page.locator("#file-input").setInputFiles(text);
  await page.getByRole("button", { name: "Upload 1 capture" }).click();
  const refused = page.locator(".submission.outcome-refused");
  await refused.waitFor();
  assert.equal(await refused.locator(".api-message").textContent(), expected.body.status);
  assert.equal(await refused.locator(".http-status").textContent(), `Refused (415 ${expected.body.code}): `);
  await page.screenshot({ path: join(shots, "refused.png") });

  // Cancel: a slow link (Chromium's network emulation) keeps the upload going long enough.
  const before = ((await (await fetch(`${stack.url}/jobs`)).json()) as { jobs: unknown[] }).jobs.length;
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
  // From disk: Chromium reads a path itself, a buffer would cross the DevTools protocol first.
  const big = join(stack.dataDir, "big.pcap");
  await writeFile(big, Buffer.concat([await readFile(join(TRACES, "wikipedia.pcap")), Buffer.alloc(2 * 1024 * 1024)]));
  await page.locator("#file-input").setInputFiles(big);
  await page.getByRole("button", { name: "Upload 1 capture" }).click();
  const uploading = page.locator(".submission").first();
  await uploading.locator(".progress-row .percent").filter({ hasNotText: /^0%$/ }).waitFor();
  const percent = Number((await uploading.locator(".progress-row .percent").textContent())!.replace("%", ""));
  assert.ok(percent > 0 && percent < 100, `mid-upload: ${percent}%`);
  await uploading.getByRole("button", { name: "Cancel upload" }).click();
  await uploading.locator(".outcome", { hasText: "Cancelled" }).waitFor();
  assert.equal(((await (await fetch(`${stack.url}/jobs`)).json()) as { jobs: unknown[] }).jobs.length, before, "no job queued");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // A capture Zeek refuses is accepted by the api, then shows failed with Zeek's exit code and stderr
  // (cut inside its first packet: with no whole packet there is nothing to salvage); one cut
  // later is salvaged: done, with what was kept and dropped.
  worker ??= await startWorker(stack.ctx);
  await page.locator("#file-input").setInputFiles([join(TRACES, "bad", "trunc-100bytes.pcap"), join(TRACES, "bad", "cut-midpacket.pcap")]);
  await page.getByRole("button", { name: "Upload 2 captures" }).click();
  await page.locator(".submission.outcome-accepted").first().getByRole("link", { name: /open job/ }).click();
  await page.locator(".live", { hasText: "Job finished" }).waitFor({ timeout: 30_000 });
  const failedId = decodeURIComponent(new URL(page.url()).hash).replace("#/jobs/", "");
  type Capture = { state: string; zeekExitCode: number; zeekStderr: string; salvaged?: { packetsKept: number } };
  const record = (await (await fetch(`${stack.url}/jobs/${failedId}`)).json()) as { state: string; files: Capture[] };
  assert.equal(record.state, "partial");
  const [refusedCapture, salvagedCapture] = record.files as [Capture, Capture];
  assert.equal(refusedCapture.state, "failed");
  const stderr = page.getByLabel("Zeek's stderr for trunc-100bytes.pcap");
  await stderr.waitFor();
  assert.equal(await stderr.textContent(), refusedCapture.zeekStderr.trim());
  assert.match((await page.locator(".failure p").textContent()) ?? "", new RegExp(`^Zeek exited with code ${refusedCapture.zeekExitCode}`));
  assert.equal(salvagedCapture.state, "done");
  assert.ok(salvagedCapture.salvaged, "the record says what was salvaged");
  assert.match((await page.locator("p.warning").textContent()) ?? "", new RegExp(`^Salvaged: .* first ${salvagedCapture.salvaged.packetsKept} packets`));
  await page.screenshot({ path: join(shots, "failed-and-salvaged.png"), fullPage: true });
  await context.close();
});

test("the jobs list: newest first, filtered by tag and state, a page at a time", async () => {
  // 21 finished jobs tagged paging, written as records (no Zeek needed to list them), an hour
  // old: older than every other job, so the unfiltered list never starts like the filtered one.
  const store = new JobStore(stack.ctx.topology);
  const ids: string[] = [];
  for (let n = 0; n < 21; n++) {
    const at = Date.now() - 3_600_000 - (21 - n) * 1000;
    const id = newJobId(at);
    ids.push(id);
    await store.create({ id, tag: "paging", state: n % 2 ? "done" : "partial", format: "tsv", submittedAt: new Date(at).toISOString(), files: [] });
  }
  try {
    const newestFirst = [...ids].reverse().map((id) => id.slice(-12));
    const { context, page } = await openPage();
    const shown = (): Promise<string[]> => page.getByRole("region", { name: "Jobs table" }).locator("tbody th a").allTextContents();
    await page.locator("#filter-tag").fill("paging");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("Page 1").waitFor();
    await page.locator(".jobs tbody tr").first().locator("th a", { hasText: newestFirst[0]! }).waitFor();
    assert.deepEqual(await shown(), newestFirst.slice(0, 20));
    await page.getByRole("button", { name: "Older ›" }).click();
    await page.getByText("Page 2").waitFor();
    assert.deepEqual(await shown(), newestFirst.slice(20));
    assert.equal(await page.getByRole("button", { name: "Older ›" }).isDisabled(), true);
    await page.getByRole("button", { name: "‹ Newer" }).click();
    await page.getByText("Page 1").waitFor();
    assert.deepEqual(await shown(), newestFirst.slice(0, 20));

    await page.getByLabel("State").selectOption("partial");
    await page.getByRole("button", { name: "Filter" }).click();
    await eventually(async () => (await page.locator(".jobs tbody tr").count()) === 11, 10_000, "the partial jobs only");
    assert.deepEqual(await shown(), newestFirst.filter((_, i) => (20 - i) % 2 === 0));
    await page.locator("#filter-tag").fill("no-such-tag");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No job matches these filters.").waitFor();
    await context.close();
  } finally {
    for (const id of ids) await stack.ctx.topology.jobs.delete(id);
  }
});

test("a job with more captures than the status's first page: the count from the summary, Show more reads the rest", async () => {
  // Written as a record (no Zeek needed): 25 captures, the status carries the first 20.
  const store = new JobStore(stack.ctx.topology);
  const id = newJobId();
  const at = new Date().toISOString();
  const files = Array.from({ length: 25 }, (_, index) => ({
    index,
    name: `many-${index}.pcap`,
    object: `${id}/${index}`,
    size: 100 + index,
    sha256: "0".repeat(64),
    state: index === 22 ? ("failed" as const) : ("done" as const),
    attempts: 1,
    lines: { conn: index },
    ...(index === 22 ? { zeekExitCode: 1, error: { code: "BROCAPI_ZEEK_FAILED", message: "zeek exited with code 1" } } : {}),
  }));
  await store.create({ id, tag: "many", state: "partial", format: "tsv", submittedAt: at, finishedAt: at, files });
  try {
    const { context, page, errors } = await openPage();
    await page.goto(`${stack.url}/#/jobs/${id}`);
    const rows = page.locator("tr.capture");
    await page.getByText("Showing 20 of 25 captures.").waitFor();
    assert.equal(await page.locator(".facts div", { hasText: "Captures" }).locator("dd").textContent(), "25");
    assert.equal(await rows.count(), 20);
    await page.getByRole("button", { name: "Show more captures" }).click();
    await eventually(async () => (await rows.count()) === 25, 10_000, "all 25 captures shown");
    assert.deepEqual(await rows.locator("th .name").allTextContents(), files.map((f) => f.name));
    assert.equal(await page.getByRole("button", { name: "Show more captures" }).isVisible(), false);
    assert.match((await page.locator("tr.capture-detail").textContent()) ?? "", /Zeek exited with code 1/);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await deleteJob(stack.ctx.topology, id);
  }
});

test("with API tokens the page asks for one on 401, keeps it for the session, and sends it everywhere", async () => {
  assert.ok(jobId, "the upload test ran first");
  // A second api on the same NATS prefix, with tokens: it serves the same jobs.
  const { path, tokens } = await writeTokensFile(stack.dataDir, [{ name: "analyst", roles: ["submit", "read"] }]);
  const secured = await startStack({ natsUrl: nats.url, services: ["api"], env: { BROCAPI_NATS_PREFIX: stack.config.nats.prefix, BROCAPI_AUTH_TOKENS_FILE: path } });
  const refusal = async (headers: Record<string, string>): Promise<string> => {
    const res = await fetch(`${secured.url}/jobs`, { headers });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer\b/);
    return ((await res.json()) as { status: string }).status;
  };
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, acceptDownloads: true });
  const page = await context.newPage();
  try {
    await page.goto(`${secured.url}/`);
    const dialog = page.getByRole("dialog", { name: "This Brocapi needs an API token" });
    await dialog.waitFor();
    assert.equal(await dialog.getByRole("alert").textContent(), await refusal({}));
    await dialog.getByLabel("API token").fill("t_wrong");
    await dialog.getByRole("button", { name: "Use token" }).click();
    await dialog.getByRole("alert").filter({ hasText: await refusal({ authorization: "Bearer t_wrong" }) }).waitFor();
    await dialog.getByLabel("API token").fill(tokens["analyst"]!);
    await dialog.getByRole("button", { name: "Use token" }).click();
    await page.getByRole("region", { name: "Jobs table" }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem("brocapi.token")), tokens["analyst"]);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { localStorage: { length: number } }).localStorage.length), 0, "nothing kept beyond the session");

    // The job's view (its status read), a download and an upload carry the token too.
    await page.goto(`${secured.url}/#/jobs/${jobId}`);
    await page.locator(".live", { hasText: "Job finished" }).waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "conn.log", exact: true }).click()]);
    assert.equal(await readFile((await download.path())!, "utf8"), await (await fetch(`${stack.url}/jobs/${jobId}/logs/conn`)).text());
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.locator("#file-input").setInputFiles(join(TRACES, "dns53.pcap"));
    await page.getByRole("button", { name: "Upload 1 capture" }).click();
    await page.locator(".submission.outcome-accepted").waitFor();
    assert.equal(await page.getByRole("dialog").count(), 0, "asked once");
  } finally {
    await context.close();
    await secured.stop();
  }
});

test("accessible in light and dark: no WCAG 2.1 A/AA violations (labels, names, contrast) on every view", async () => {
  assert.ok(jobId, "the upload test ran first");
  // axe is injected as an inline script, which the page's Content-Security-Policy forbids.
  const { context, page } = await openPage({ bypassCSP: true });
  const views: Array<[string, string, string]> = [
    ["home", "/", "table"],
    ["job", `/#/jobs/${jobId}`, ".live:has-text('Job finished')"],
    ["preview", `/#/jobs/${jobId}/logs/conn`, "table.log-table"],
  ];
  for (const [name, path, ready] of views) {
    await page.goto(`${stack.url}${path}`);
    await page.locator(ready).first().waitFor();
    await page.emulateMedia({ colorScheme: "light" });
    assert.deepEqual(await accessibilityViolations(page), [], `${name} (light)`);
    // Only colours change with the scheme.
    await page.emulateMedia({ colorScheme: "dark" });
    assert.deepEqual(await accessibilityViolations(page, ["color-contrast"]), [], `${name} (dark)`);
    if (name === "home") await page.screenshot({ path: join(shots, "home-dark.png") });
  }
  await context.close();
});

test("delete asks first, by keyboard: Escape keeps the job, confirming deletes it", async () => {
  assert.ok(jobId, "the upload test ran first");
  const { context, page } = await openPage();
  await page.goto(`${stack.url}/#/jobs/${jobId}`);
  await page.locator(".live", { hasText: "Job finished" }).waitFor();
  const remove = page.getByRole("button", { name: "Delete job…" });
  await remove.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Delete this job?" });
  await dialog.waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal((await fetch(`${stack.url}/jobs/${jobId}`)).status, 200, "still there");

  await remove.focus();
  await page.keyboard.press("Enter");
  await dialog.waitFor();
  await page.keyboard.press("Tab"); // from Cancel, which has the focus, to Delete job
  await page.keyboard.press("Enter");
  await page.getByRole("status").filter({ hasText: `Job ${jobId} deleted.` }).waitFor();
  assert.equal((await fetch(`${stack.url}/jobs/${jobId}`)).status, 404);
  await context.close();
});
