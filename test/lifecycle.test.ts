import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { JobStatus } from "../shared/jobs/job-status.js";
import { deliveredLines, directoryDataLines, linesDeliveredMetric, publishedLines } from "./helpers/job-counts.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;
let good: string;
let bad: string;

before(async () => {
  // A slower Zeek keeps the job running long enough for a client to join mid-job.
  process.env.ZEEK_DOUBLE_DELAY_MS = "700";
  nats = await startTestNats();
  // Salvage off: the cut capture stays one Zeek refuses, for a partial job.
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_BATCH_LINES: "50", BROCAPI_WORKER_CONCURRENCY: "1", BROCAPI_SALVAGE_TRUNCATED: "false" } });
  good = join(stack.dataDir, "good.pcap");
  bad = join(stack.dataDir, "cut.pcap");
  await writeSyntheticPcap(good, { flows: 400, seed: 11, dnsEvery: 5 });
  await writeTruncatedPcap(bad, { flows: 30, seed: 12 });
});

after(async () => {
  delete process.env.ZEEK_DOUBLE_DELAY_MS;
  await stack?.stop();
  await nats?.cleanup();
});

interface SseEvent {
  event: string;
  id?: string;
  data: { type?: string; state?: string; fileIndex?: number } & Record<string, unknown>;
}

/**
 * Reads a whole SSE response (the server ends it after job.finished). A stream that does not end
 * fails the read after a minute instead of holding the test (and the suite) open for ever.
 */
async function readEvents(url: string, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const text = await (await fetch(url, { headers, signal: AbortSignal.timeout(60_000) })).text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("data: "))
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)![1]!;
      const id = /^id: (.+)$/m.exec(block)?.[1];
      return { event, ...(id ? { id } : {}), data: JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as SseEvent["data"] };
    });
}

const getJson = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${stack.url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
};

/**
 * Waits until the job is final and the directory sink's files hold every published line (what
 * arrived, counted from the files), then until its count has caught up with them (a count is
 * flushed within a second of the write): the count is then compared, not assumed.
 */
async function fullyDelivered(id: string): Promise<JobStatus> {
  let status!: JobStatus;
  await eventually(async () => {
    status = (await getJson<JobStatus>(`/jobs/${id}`)).body;
    const final = status.state !== "running" && status.state !== "queued";
    return final && (await directoryDataLines(stack.config.directory.root, id)) >= publishedLines(status);
  }, 30_000, "every line in the directory sink's files");
  const inFiles = await directoryDataLines(stack.config.directory.root, id);
  await eventually(async () => {
    status = (await getJson<JobStatus>(`/jobs/${id}`)).body;
    return deliveredLines(status, "directory") >= inFiles;
  }, 10_000, "the directory sink's count");
  return status;
}

let partialJob: string;

test("a two-capture job with one Zeek rejects: queued → running → partial, with Zeek's stderr; SSE in order for an early and a late client", async () => {
  const { body } = await submit(stack.url, [good, bad], "case-7");
  partialJob = body.job_id;
  const early = readEvents(`${stack.url}/jobs/${body.job_id}/events`);
  // The late client joins once the first capture has started.
  await eventually(async () => (await getJson<JobStatus>(`/jobs/${body.job_id}`)).body.state === "running", 30_000, "job running");
  const late = readEvents(`${stack.url}/jobs/${body.job_id}/events`);
  const [a, b] = await Promise.all([early, late]);

  for (const events of [a, b]) {
    assert.equal(events[0]!.event, "status", "the current state comes first");
    const types = events.slice(1).map((e) => e.event);
    assert.equal(types[0], "job.queued");
    assert.equal(types.at(-1), "job.finished");
    for (const i of [0, 1]) {
      const started = types.findIndex((t, k) => t === "file.started" && events[k + 1]!.data.fileIndex === i);
      const finished = types.findIndex((t, k) => t === "file.finished" && events[k + 1]!.data.fileIndex === i);
      assert.ok(started > 0 && finished > started, `capture ${i}: started before finished`);
    }
    assert.equal(events.at(-1)!.data.state, "partial");
  }
  // The late client saw the job already running, then the same history as the early one.
  assert.equal(b[0]!.data.state, "running");
  assert.deepEqual(
    b.slice(1).map((e) => e.data),
    a.slice(1).map((e) => e.data),
  );

  // A client reconnecting after the second event resumes there (Last-Event-ID): the current
  // status, then exactly the events after it; an id that is not an event's replays everything.
  const url = `${stack.url}/jobs/${body.job_id}/events`;
  assert.ok(a.slice(1).every((e) => e.id && /^\d+$/.test(e.id)), "every event carries its sequence as id");
  const resumed = await readEvents(url, { "last-event-id": a[2]!.id! });
  assert.equal(resumed[0]!.event, "status");
  assert.equal(resumed[0]!.data.state, "partial");
  assert.deepEqual(resumed.slice(1), a.slice(3));
  assert.deepEqual((await readEvents(url, { "last-event-id": "not-a-seq" })).slice(1), a.slice(1));
  // An SSE client reconnects when a stream ends: resumed after job.finished, the stream of a final
  // job ends too (the status only) instead of polling for as long as the client stays.
  // (Sinks' counts stored after job.finished come first; readEvents returns once the stream ended.)
  const past = await readEvents(url, { "last-event-id": a.at(-1)!.id! });
  assert.equal(past[0]!.event, "status");
  assert.ok(past.slice(1).every((e) => e.event === "lines.delivered"), `only later sink counts: ${past.map((e) => e.event).join(", ")}`);

  const status = await fullyDelivered(body.job_id);
  assert.equal(status.state, "partial");
  assert.equal(status.tag, "case-7");
  assert.ok(status.startedAt && status.finishedAt && status.submittedAt <= status.startedAt);
  const [ok, rejected] = status.files;
  assert.equal(ok!.state, "done");
  assert.equal(ok!.lines.conn, 400);
  assert.equal(ok!.zeekExitCode, 0);
  assert.ok(ok!.durationMs! > 0);
  assert.match(ok!.sha256, /^[0-9a-f]{64}$/);
  assert.equal(rejected!.state, "failed");
  assert.equal(rejected!.zeekExitCode, 1);
  assert.match(rejected!.zeekStderr!, /fatal error: failed to read a packet from cut\.pcap: truncated dump file/);
  assert.equal(status.lines.conn, 400);
  // What the job says was delivered is what the files hold, which is what was published.
  const inFiles = await directoryDataLines(stack.config.directory.root, body.job_id);
  assert.equal(inFiles, publishedLines(status));
  assert.equal(deliveredLines(status, "directory"), inFiles);
  // The first job of this stack: the process's counter holds exactly its lines.
  assert.equal(await linesDeliveredMetric(`${stack.url}/metrics`, "directory"), inFiles);
});

test("each log read back from JetStream equals what the directory sink wrote, byte for byte; the tar.gz holds the same files", async () => {
  const { body } = await getJson<{ logs: { type: string; lines: number }[] }>(`/jobs/${partialJob}/logs`);
  assert.deepEqual(
    body.logs.map((l) => l.type),
    ["conn", "dns"],
  );
  const dir = join(stack.config.directory.root, partialJob);
  for (const { type } of body.logs) {
    const res = await fetch(`${stack.url}/jobs/${partialJob}/logs/${type}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(join(dir, `${type}.log`)), type);
  }
  const tgz = Buffer.from(await (await fetch(`${stack.url}/jobs/${partialJob}/logs.tar.gz`)).arrayBuffer());
  const out = await mkdtemp(join(tmpdir(), "brocapi-tgz-"));
  execFileSync("tar", ["-xzf", "-", "-C", out], { input: tgz });
  assert.deepEqual((await readdir(join(out, partialJob))).sort(), ["conn.log", "dns.log"]);
  for (const f of ["conn.log", "dns.log"]) assert.deepEqual(await readFile(join(out, partialJob, f)), await readFile(join(dir, f)), f);
});

test("?format=json turns the TSV log into Zeek JSON lines with the #fields names", async () => {
  const text = await (await fetch(`${stack.url}/jobs/${partialJob}/logs/conn?format=json`)).text();
  const records = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(records.length, 400);
  for (const r of records) {
    assert.equal(typeof r.ts, "number");
    assert.match(String(r.uid), /^C/);
    assert.equal(typeof r["id.orig_p"], "number");
  }
});

test("the original capture downloads byte for byte, by name and by index", async () => {
  const original = await readFile(good);
  for (const name of ["good.pcap", "0"]) {
    const res = await fetch(`${stack.url}/jobs/${partialJob}/pcaps/${name}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), original);
  }
  assert.equal((await fetch(`${stack.url}/jobs/${partialJob}/pcaps/nope.pcap`)).status, 404);
});

test("GET /jobs lists newest first, filters by tag and state, pages with a cursor", async () => {
  const { body: second } = await submit(stack.url, [good], "case-8");
  await stack.waitForJob(second.job_id);
  const all = (await getJson<{ jobs: { id: string; tag: string; state: string }[]; next_cursor: string | null }>("/jobs")).body;
  assert.deepEqual(
    all.jobs.slice(0, 2).map((j) => j.id),
    [second.job_id, partialJob],
  );
  const page1 = (await getJson<{ jobs: { id: string }[]; next_cursor: string }>("/jobs?limit=1")).body;
  assert.equal(page1.jobs[0]!.id, second.job_id);
  const page2 = (await getJson<{ jobs: { id: string }[] }>(`/jobs?limit=1&cursor=${page1.next_cursor}`)).body;
  assert.equal(page2.jobs[0]!.id, partialJob);
  assert.deepEqual((await getJson<{ jobs: { id: string }[] }>("/jobs?tag=case-7")).body.jobs.map((j) => j.id), [partialJob]);
  assert.deepEqual((await getJson<{ jobs: { id: string }[] }>("/jobs?state=partial")).body.jobs.map((j) => j.id), [partialJob]);
  assert.equal((await getJson("/jobs?state=sleeping")).status, 400);
});

test("DELETE removes the job: record, captures, lines and events; later reads are 404", async () => {
  const { body } = await submit(stack.url, [good], "to-delete");
  const job = await fullyDelivered(body.job_id);
  const { names, jsm, jobs, sinks } = stack.ctx.topology;
  const subjectsOf = async (stream: string, filter: string): Promise<string[]> => Object.keys((await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {});
  const sinkKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const key of await sinks.keys(`${body.job_id}.*`)) keys.push(key);
    return keys;
  };
  // Everything DELETE must remove is there first.
  assert.ok((await subjectsOf(names.logsStream, names.logsOfJob(body.job_id))).length > 0, "LOGS hold the job's lines");
  assert.deepEqual(await subjectsOf(names.eventsStream, names.eventsSubject(body.job_id)), [names.eventsSubject(body.job_id)], "EVENTS hold the job's events");
  assert.deepEqual(await sinkKeys(), [`${body.job_id}.directory`], "the directory sink's count exists");
  const res = await fetch(`${stack.url}/jobs/${body.job_id}`, { method: "DELETE" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "job deleted", job_id: body.job_id, success: true });
  for (const path of ["", "/logs", "/logs/conn", "/pcaps/0", "/events"]) assert.equal((await fetch(`${stack.url}/jobs/${body.job_id}${path}`)).status, 404, path);
  assert.equal((await fetch(`${stack.url}/jobs/${body.job_id}`, { method: "DELETE" })).status, 404);
  assert.equal(await stack.ctx.topology.pcaps.get(job.files[0]!.object), null);
  assert.deepEqual(await subjectsOf(names.logsStream, names.logsOfJob(body.job_id)), [], "LOGS purged");
  assert.deepEqual(await subjectsOf(names.eventsStream, names.eventsSubject(body.job_id)), [], "EVENTS purged");
  assert.deepEqual(await subjectsOf(names.tasksStream, names.tasksSubject(body.job_id)), [], "TASKS purged");
  assert.notEqual((await jobs.get(body.job_id))?.operation ?? "gone", "PUT", "job record gone");
  assert.deepEqual(await sinkKeys(), [], "sink counts gone");
});

test("unknown ids and malformed ids answer 404 and 400 in the API's error shape", async () => {
  const missing = await getJson<{ success: boolean; code: string }>("/jobs/01900000-0000-7000-8000-000000000000");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, "BROCAPI_JOB_NOT_FOUND");
  const malformed = await getJson<{ success: boolean; code: string }>("/jobs/not-a-uuid");
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.success, false);
});

test("/openapi.json documents every route from the zod schemas, with the 400 of each that takes parameters; /docs serves the UI; /metrics counts the work", async () => {
  type Operation = { parameters: unknown[]; responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }> };
  const doc = (await getJson<{ openapi: string; paths: Record<string, Record<string, Operation>> }>("/openapi.json")).body;
  assert.equal(doc.openapi, "3.1.0");
  for (const path of ["/submit/pcap", "/jobs", "/jobs/{id}", "/jobs/{id}/captures", "/jobs/{id}/events", "/jobs/{id}/logs", "/jobs/{id}/logs/{type}", "/jobs/{id}/logs.tar.gz", "/jobs/{id}/pcaps/{name}", "/healthz"]) {
    assert.ok(doc.paths[path], path);
  }
  // A route with parameters answers 400 when one fails its schema, and says so.
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) if (op.parameters.length > 0) assert.ok(op.responses["400"], `${method} ${path} documents its 400`);
  }
  const captures = doc.paths["/jobs/{id}/captures"]!.get!;
  assert.ok(captures.responses["400"]!.content["application/json"]!.schema.properties.code, "in the API's error shape");
  for (const query of ["state=sleeping", "cursor=-1", "limit=0"]) {
    const bad = await getJson<{ success: boolean; code: string }>(`/jobs/${partialJob}/captures?${query}`);
    assert.deepEqual([bad.status, bad.body.code], [400, "BROCAPI_BAD_REQUEST"], query);
  }
  const status = doc.paths["/jobs/{id}"]!.get!;
  assert.ok(status.responses["200"]!.content["application/json"]!.schema.properties.sinks, "the status schema comes from zod");
  const ui = await fetch(`${stack.url}/docs/`);
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger/i);
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  assert.match(metrics, /brocapi_zeek_runs_total\{result="done"\} \d+/);
  assert.match(metrics, /brocapi_zeek_runs_total\{result="failed"\} 1/);
  assert.match(metrics, /brocapi_lines_delivered_total\{sink="directory"\} \d+/);
  assert.match(metrics, /brocapi_consumer_pending\{consumer="[^"]+",stream="[^"]+_LOGS"\} \d+/);
  assert.match(metrics, /brocapi_zeek_duration_seconds_count \d+/);
});
