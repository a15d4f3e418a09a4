import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { parseCommandLine } from "../services/cli/args.js";
import type { Job, JobEvent } from "../services/cli/api-types.js";
import { EventFilter } from "../services/cli/follow-job.js";
import { formatBytes, formatDuration, formatEvent, formatJobSummary, formatTable, formatTsv, printable } from "../services/cli/format.js";
import { FileChangedError, multipartBody } from "../services/cli/multipart.js";
import { renderProgress } from "../services/cli/progress.js";
import { readSse, SseParser, type SseEvent } from "../services/cli/sse.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";

const BIN = fileURLToPath(new URL("../../bin/brocapi", import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/brocapi …` as a user would (stdout and stderr are pipes, not a terminal), without the caller's BROCAPI_URL. */
async function brocapi(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BROCAPI_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("command line", () => {
  const env = { BROCAPI_URL: "http://env.example:9000/" };

  test("submit: files, tag, wait; the URL from --url (before or after the command), BROCAPI_URL, or the default", () => {
    assert.deepEqual(parseCommandLine(["submit", "a.pcap", "b.pcapng", "--tag", "case42", "--wait"], env), {
      kind: "submit",
      url: "http://env.example:9000",
      files: ["a.pcap", "b.pcapng"],
      tag: "case42",
      wait: true,
    });
    assert.deepEqual(parseCommandLine(["--url", "http://h:1", "submit", "a.pcap"], env), { kind: "submit", url: "http://h:1", files: ["a.pcap"], wait: false });
    assert.equal((parseCommandLine(["delete", "x", "--url=https://h/prefix/"], env) as { url: string }).url, "https://h/prefix");
    assert.equal((parseCommandLine(["delete", "x"], {}) as { url: string }).url, "http://127.0.0.1:8080");
    assert.equal((parseCommandLine(["delete", "x"], { BROCAPI_URL: "" }) as { url: string }).url, "http://127.0.0.1:8080", "empty is unset");
    assert.deepEqual(parseCommandLine(["submit", "--tag", "", "--", "--odd-name.pcap"], {}), { kind: "submit", url: "http://127.0.0.1:8080", files: ["--odd-name.pcap"], tag: "", wait: false });
  });

  test("jobs, job, logs, delete", () => {
    assert.deepEqual(parseCommandLine(["jobs"], {}), { kind: "jobs", url: "http://127.0.0.1:8080", limit: 20 });
    assert.deepEqual(parseCommandLine(["jobs", "--tag", "t", "--state", "partial", "--limit", "5"], {}), { kind: "jobs", url: "http://127.0.0.1:8080", tag: "t", state: "partial", limit: 5 });
    assert.deepEqual(parseCommandLine(["job", "id1", "--json"], {}), { kind: "job", url: "http://127.0.0.1:8080", id: "id1", json: true });
    assert.deepEqual(parseCommandLine(["logs", "id1", "conn"], {}), { kind: "logs", url: "http://127.0.0.1:8080", id: "id1", type: "conn", format: "tsv" });
    assert.equal((parseCommandLine(["logs", "id1", "dns", "--format", "json"], {}) as { format: string }).format, "json");
    assert.deepEqual(parseCommandLine(["delete", "id1"], {}), { kind: "delete", url: "http://127.0.0.1:8080", id: "id1" });
  });

  test("--help anywhere gives the main or the command's help", () => {
    const main = parseCommandLine(["--help"], {});
    assert.equal(main.kind, "help");
    for (const name of ["submit", "jobs", "job", "logs", "delete"]) assert.match((main as { text: string }).text, new RegExp(`^  ${name} `, "m"));
    const sub = parseCommandLine(["submit", "-h"], {}) as { kind: string; text: string };
    assert.match(sub.text, /^Usage: brocapi submit <files\.\.\.> \[options\]/);
    assert.match(sub.text, /--wait/);
    assert.match((parseCommandLine(["-h", "logs"], {}) as { text: string }).text, /^Usage: brocapi logs <id> <type>/);
  });

  test("usage errors say what is wrong", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no command given/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["submit"], /submit: missing <files>/],
      [["logs", "id"], /logs: missing <type>/],
      [["job", "a", "b"], /job: unexpected argument 'b'/],
      [["jobs", "--state", "lost"], /--state must be one of queued, running, done, failed, partial, not lost/],
      [["jobs", "--limit", "2.5"], /--limit must be a whole number/],
      [["jobs", "--bogus"], /Unknown option '--bogus'/],
      [["submit", "a.pcap", "--tag"], /argument missing/],
      [["logs", "i", "conn", "--format", "xml"], /--format must be tsv or json/],
      [["job", "i", "--url", "ftp://h"], /must be http:\/\/ or https:\/\//],
      [["job", "i", "--url", "not a url"], /not a URL/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => parseCommandLine(argv, {}), (err: Error) => err.name === "UsageError" && message.test(err.message), argv.join(" "));
    }
  });
});

describe("multipart body", () => {
  test("streams fields and files; Content-Length is exact; a standard parser reads back the same bytes", async () => {
    const a = join(dir, "a.pcap");
    const empty = join(dir, "empty.pcap");
    // Bytes that look like multipart syntax must pass through untouched.
    const bytes = Buffer.concat([randomBytes(200_000), Buffer.from("\r\n--brocapi-x\r\n--\r\n"), randomBytes(70_001)]);
    await writeFile(a, bytes);
    await writeFile(empty, "");
    const body = multipartBody(
      [{ name: "tag", value: "café 42" }],
      [
        { field: "file[]", path: a, fileName: 'we"ird name.pcap', size: bytes.length },
        { field: "file[]", path: empty, fileName: "empty.pcap", size: 0 },
      ],
    );
    const chunks: Buffer[] = [];
    for await (const chunk of body.stream()) {
      // Never more than a read-stream chunk at once: the file is not loaded whole.
      assert.ok(chunk.length <= 64 * 1024, `chunk of ${chunk.length}`);
      chunks.push(chunk);
    }
    const whole = Buffer.concat(chunks);
    assert.equal(whole.length, body.length);

    const form = await new Response(Readable.toWeb(Readable.from(body.stream())) as ReadableStream, { headers: { "content-type": body.contentType } }).formData();
    assert.equal(form.get("tag"), "café 42");
    const files = form.getAll("file[]") as File[];
    assert.deepEqual(
      files.map((f) => f.name),
      ['we"ird name.pcap', "empty.pcap"],
    );
    assert.ok(Buffer.from(await files[0]!.arrayBuffer()).equals(bytes));
    assert.equal(files[1]!.size, 0);
  });

  test("a file that shrinks after its size was taken fails the stream instead of sending a short body", async () => {
    const path = join(dir, "shrinks.pcap");
    await writeFile(path, randomBytes(1000));
    const body = multipartBody([], [{ field: "file[]", path, fileName: "shrinks.pcap", size: 1000 }]);
    await truncate(path, 10);
    await assert.rejects(async () => {
      for await (const _ of body.stream());
    }, FileChangedError);
  });
});

describe("server-sent events", () => {
  const stream =
    ": keep-alive\r\n" +
    "event: status\r\ndata: {\"id\":\"j\"}\r\n\r\n" +
    "event: file.started\ndata:{\"fileIndex\":0}\n\n" +
    ": another comment\r" +
    "data: line one\rdata: line two\r\r" +
    "id: 7\nevent: job.finished\ndata: {\"state\":\"done\"}\n\n" +
    "event: lost\ndata: cut off by the end of the stream";
  const expected: SseEvent[] = [
    { event: "status", data: '{"id":"j"}' },
    { event: "file.started", data: '{"fileIndex":0}' },
    { event: "message", data: "line one\nline two" },
    { event: "job.finished", data: '{"state":"done"}', id: "7" },
  ];

  test("the same events whichever way the text is split: every two-chunk split, and one character at a time", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new SseParser();
      assert.deepEqual([...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut))], expected, `split at ${cut}`);
    }
    const parser = new SseParser();
    assert.deepEqual([...stream].flatMap((c) => parser.push(c)), expected);
  });

  test("readSse decodes UTF-8 characters split between network chunks", async () => {
    const bytes = Buffer.from("event: file.finished\ndata: {\"name\":\"ünïcødé.pcap\"}\n\n");
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    };
    const events: SseEvent[] = [];
    for await (const e of readSse(chunks())) events.push(e);
    assert.deepEqual(events, [{ event: "file.finished", data: '{"name":"ünïcødé.pcap"}' }]);
  });

  test("a replayed history prints nothing twice", () => {
    const at = "2025-01-01T00:00:00Z";
    const history: JobEvent[] = [
      { type: "job.queued", jobId: "j", at, files: ["a.pcap"] },
      { type: "file.started", jobId: "j", at, fileIndex: 0, name: "a.pcap", attempt: 1 },
      { type: "lines.delivered", jobId: "j", at, sink: "syslog", lines: 10 },
      { type: "lines.delivered", jobId: "j", at, sink: "syslog", lines: 10 },
      { type: "lines.delivered", jobId: "j", at, sink: "syslog", lines: 10, lastError: "connect ECONNREFUSED" },
      { type: "file.started", jobId: "j", at, fileIndex: 0, name: "a.pcap", attempt: 2 },
    ];
    const filter = new EventFilter();
    assert.deepEqual(
      history.map((e) => filter.isNew(e)),
      [true, true, true, false, true, true],
    );
    assert.deepEqual(
      history.map((e) => filter.isNew(e)),
      [false, false, false, false, false, false],
      "after a reconnect the same history is not news",
    );
    assert.equal(filter.isNew({ type: "lines.delivered", jobId: "j", at, sink: "syslog", lines: 5, lastError: "connect ECONNREFUSED" }), false, "a lower count is old");
  });
});

describe("output", () => {
  test("sizes, durations, control characters", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(27 * 1024 * 1024), "27.0 MiB");
    assert.equal(formatDuration(350), "350 ms");
    assert.equal(formatDuration(12_345), "12.3 s");
    assert.equal(formatDuration(245_000), "4 min 05 s");
    assert.equal(printable("case\x1b[31m42\n"), "case?[31m42?");
  });

  test("table aligns columns for a terminal; TSV keeps one row per line for pipes", () => {
    assert.equal(formatTable(["ID", "STATE"], [["a", "done"], ["bbbb", "partial"]]), "ID    STATE\na     done\nbbbb  partial\n");
    assert.equal(formatTsv([["a", "tag\twith tab"], ["b", "-"]]), "a\ttag with tab\nb\t-\n");
  });

  test("progress bar", () => {
    assert.equal(renderProgress(0, 1024, 0, 80), `[${".".repeat(40)}]    0%  0 B / 1.0 KiB`);
    assert.equal(renderProgress(512, 1024, 1000, 80), `[${"#".repeat(20)}${".".repeat(20)}]   50%  512 B / 1.0 KiB  512 B/s`);
    assert.ok(renderProgress(512, 1024, 1000, 30).length < 30, "fits a narrow terminal");
    assert.match(renderProgress(0, 0, 0, 80), /100%/);
  });

  test("job summary: each capture, Zeek's exit code and first stderr line for a failed one, each sink", () => {
    const job: Job = {
      id: "6f0c0000-0000-4000-8000-000000000000",
      tag: "case42",
      state: "partial",
      format: "tsv",
      submittedAt: "2025-01-01T00:00:00.000Z",
      startedAt: "2025-01-01T00:00:01.000Z",
      finishedAt: "2025-01-01T00:00:03.500Z",
      files: [
        { index: 0, name: "good.pcap", size: 2048, sha256: "x", state: "done", attempts: 1, durationMs: 1200, lines: { dns: 3, conn: 20 }, analysedBy: { host: "host-b", pid: 42, worker: "worker-1" } },
        { index: 2, name: "killed.pcap", size: 3000, sha256: "z", state: "done", attempts: 1, lines: { conn: 5 }, salvaged: { bytesKept: 2900, packetsKept: 31, bytesDropped: 100 } },
        {
          index: 1,
          name: "cut.pcap",
          size: 900,
          sha256: "y",
          state: "failed",
          attempts: 1,
          zeekExitCode: 1,
          zeekStderr: "\nfatal error in <params>, line 1: failed to read a packet\nsecond line",
          error: { code: "BROCAPI_ZEEK_REJECTED_INPUT", message: "zeek exited 1" },
          lines: {},
        },
      ],
      lines: { conn: 20, dns: 3 },
      sinks: {
        syslog: { lines: 0, lastError: "connect ECONNREFUSED 127.0.0.1:514", lastErrorAt: "2025-01-01T00:00:04.000Z", updatedAt: "2025-01-01T00:00:04.000Z" },
        directory: { lines: 23, updatedAt: "2025-01-01T00:00:04.000Z" },
      },
    };
    assert.equal(
      formatJobSummary(job),
      [
        "job 6f0c0000-0000-4000-8000-000000000000  partial  tag case42  format tsv",
        "submitted 2025-01-01T00:00:00.000Z  finished 2025-01-01T00:00:03.500Z  took 2.5 s",
        "captures:",
        "  [0] good.pcap  2.0 KiB  done  1.2 s  conn 20, dns 3  by worker-1 (host host-b, pid 42)",
        "  [2] killed.pcap  2.9 KiB  done  salvaged: cut mid-packet, analysed 31 packets (2.8 KiB), dropped 100 B  conn 5",
        "  [1] cut.pcap  900 B  failed  Zeek exited 1: fatal error in <params>, line 1: failed to read a packet",
        "lines: conn 20, dns 3",
        "sinks:",
        "  directory  23 lines delivered",
        "  syslog  0 lines delivered  last error at 2025-01-01T00:00:04.000Z: connect ECONNREFUSED 127.0.0.1:514",
        "",
      ].join("\n"),
    );
  });

  test("one line per event", () => {
    const at = "2025-01-01T00:00:00Z";
    const lines = [
      formatEvent({ type: "job.queued", jobId: "j", at, files: ["a.pcap", "b.pcap"] }),
      formatEvent({ type: "file.started", jobId: "j", at, fileIndex: 1, name: "b.pcap", attempt: 2 }),
      formatEvent({ type: "file.finished", jobId: "j", at, fileIndex: 0, name: "a.pcap", state: "done", lines: { conn: 7 } }),
      formatEvent({ type: "file.finished", jobId: "j", at, fileIndex: 1, name: "b.pcap", state: "failed", lines: {}, error: { code: "BROCAPI_ZEEK_REJECTED_INPUT", message: "truncated dump file\nmore" } }),
      formatEvent({ type: "file.warning", jobId: "j", at, fileIndex: 2, name: "c.pcap", code: "BROCAPI_CAPTURE_TRUNCATED", message: "c.pcap was cut off mid-packet: …" }),
      formatEvent({ type: "lines.delivered", jobId: "j", at, sink: "directory", lines: 7 }),
      formatEvent({ type: "job.finished", jobId: "j", at, state: "partial" }),
    ];
    assert.deepEqual(lines, [
      "queued: a.pcap, b.pcap",
      "[1] b.pcap: Zeek running (attempt 2)",
      "[0] a.pcap: done, conn 7",
      "[1] b.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: truncated dump file",
      "[2] c.pcap: warning: c.pcap was cut off mid-packet: …",
      "sink directory: 7 lines delivered",
      "job partial",
    ]);
  });
});

describe("against a scripted server", () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  const seen: string[] = [];
  const script = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const handler = script.get(`${req.method} ${req.url}`);
      if (handler) return handler(req, res);
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ status: `no job here`, success: false, code: "BROCAPI_JOB_NOT_FOUND" }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const row = (n: number): object => ({ id: `job-${n}`, tag: n === 2 ? "t\tab" : null, state: "done", submittedAt: `2025-01-0${n}T00:00:00Z`, files: n });
  const json = (body: object) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));

  test("jobs follows next_cursor until --limit rows, tab-separated when stdout is a pipe", async () => {
    script.set("GET /jobs?state=done&limit=3", json({ jobs: [row(1), row(2)], next_cursor: "c1" }));
    script.set("GET /jobs?state=done&limit=1&cursor=c1", json({ jobs: [row(3)], next_cursor: "c2" }));
    seen.length = 0;
    const run = await brocapi(["jobs", "--state", "done", "--limit", "3"], { BROCAPI_URL: url });
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "job-1\tdone\t-\t1\t2025-01-01T00:00:00Z\t-\njob-2\tdone\tt?ab\t2\t2025-01-02T00:00:00Z\t-\njob-3\tdone\t-\t3\t2025-01-03T00:00:00Z\t-\n");
    assert.deepEqual(seen, ["GET /jobs?state=done&limit=3", "GET /jobs?state=done&limit=1&cursor=c1"], "stops once the limit is reached");
  });

  test("an HTTP error exits 3 with the server's status text; an unreachable server exits 3 too", async () => {
    const run = await brocapi(["job", "nope"], { BROCAPI_URL: url });
    assert.equal(run.code, 3);
    assert.equal(run.stderr, "brocapi: server answered 404: no job here\n");
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    probe.close();
    const closed = await brocapi(["jobs", "--url", closedUrl]);
    assert.equal(closed.code, 3);
    assert.equal(closed.stderr, `brocapi: cannot reach ${closedUrl}: connect ECONNREFUSED ${closedUrl.slice(7)}\n`);
  });

  test("logs streams the body to stdout as it comes", async () => {
    const body = "#separator \\x09\n" + "1.0\tC1\t10.0.0.1\n".repeat(50_000);
    script.set("GET /jobs/j%201/logs/conn", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(body);
    });
    const run = await brocapi(["logs", "j 1", "conn"], { BROCAPI_URL: url });
    assert.equal(run.code, 0);
    assert.equal(run.stdout, body);

    // `brocapi logs … | head -1`: the reader goes away after one chunk; the command ends quietly.
    const child = spawn(process.execPath, [BIN, "logs", "j 1", "conn"], { env: { ...process.env, BROCAPI_URL: url }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.stdout.once("data", () => child.stdout.destroy());
    const [code] = (await once(child, "close")) as [number | null];
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  test("submit --wait prints the events once each and exits by the final state", async () => {
    const id = "6f0c0000-0000-4000-8000-000000000001";
    const at = "2025-01-01T00:00:00Z";
    const job = { id, tag: null, state: "failed", format: "tsv", submittedAt: at, files: [{ index: 0, name: "x.pcap", size: 4, sha256: "s", state: "failed", attempts: 1, zeekExitCode: 1, zeekStderr: "bad", lines: {} }], lines: {}, sinks: {} };
    script.set("POST /submit/pcap", (req, res) => {
      req.resume();
      req.on("end", () => json({ status: "job queued", files: ["x.pcap"], tag: null, job_id: id, success: true })(req, res));
    });
    script.set(`GET /jobs/${id}/events`, (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (type: string, data: object): boolean => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, jobId: id, at, ...data })}\n\n`);
      send("status", job);
      res.write(": keep-alive\n\n");
      send("file.started", { fileIndex: 0, name: "x.pcap", attempt: 1 });
      send("file.finished", { fileIndex: 0, name: "x.pcap", state: "failed", lines: {}, error: { code: "BROCAPI_ZEEK_REJECTED_INPUT", message: "bad" } });
      send("job.finished", { state: "failed" });
      res.end();
    });
    script.set(`GET /jobs/${id}`, json(job));
    const capture = join(dir, "x.pcap");
    await writeFile(capture, "abcd");
    const run = await brocapi(["submit", capture, "--wait"], { BROCAPI_URL: url });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout.split("\n").slice(0, 4).join("\n"), `${id}\n[0] x.pcap: Zeek running\n[0] x.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: bad\njob failed`);
    assert.match(run.stdout, /\[0\] x\.pcap {2}4 B {2}failed {2}Zeek exited 1: bad/);
    assert.match(run.stderr, /^uploading 1 capture to http:\/\/127\.0\.0\.1:\d+, 204 B\nsent 204 B in \d+ ms\n$/);
  });
});

describe("brocapi against the running stack", () => {
  let nats: TestNats;
  let stack: Stack;

  before(async () => {
    nats = await startTestNats();
    stack = await startStack({ natsUrl: nats.url });
  });
  after(async () => {
    await stack?.stop();
    await nats?.cleanup();
  });

  test("submit --profile minimal --wait: a good capture ends done, exit 0; the summary names the profile", async () => {
    const good = join(dir, "good.pcap");
    await writeSyntheticPcap(good, { flows: 30, seed: 7 });
    const run = await brocapi(["submit", good, "--tag", "cli-good", "--profile", "minimal", "--wait"], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const id = run.stdout.split("\n")[0]!;
    assert.match(id, UUID);
    assert.match(run.stdout, /^\[0\] good\.pcap: done, .*conn 30/m);
    assert.match(run.stdout, /^job done$/m);
    // --wait follows the sinks too, until the directory sink has every published line.
    const [, delivered, total] = [...run.stdout.matchAll(/^sink directory: (\d+) of (\d+) lines delivered$/gm)].at(-1) ?? [];
    assert.ok(delivered && delivered === total && Number(total) >= 30, run.stdout);
    assert.match(run.stdout, new RegExp(`^job ${id}  done  tag cli-good  format tsv  profile minimal$`, "m"));
    const job = await stack.waitForJob(id);
    assert.equal(job.state, "done");
  });

  test("submit --wait: a capture cut mid-packet is salvaged: the warning as it happens, done, exit 0, the note in the summary", async () => {
    const cut = join(dir, "cut.pcap");
    const { packets } = await writeTruncatedPcap(cut, { flows: 10, seed: 8 });
    const run = await brocapi(["submit", cut, "--wait"], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^\\[0\\] cut\\.pcap: warning: cut\\.pcap was cut off mid-packet: analysed its first ${packets} packets`, "m"));
    assert.match(run.stdout, /^job done$/m);
    assert.match(run.stdout, new RegExp(`^  \\[0\\] cut\\.pcap .* done .*salvaged: cut mid-packet, analysed ${packets} packets \\(.*\\), dropped \\d+ B  conn 10  by .+ \\(host .+, pid \\d+\\)$`, "m"));
  });

  test("submit --wait: a capture Zeek rejects ends the job failed, exit 1, with Zeek's complaint", async () => {
    // Cut inside its first packet: nothing to salvage, Zeek refuses it.
    const whole = join(dir, "whole-for-cut.pcap");
    await writeSyntheticPcap(whole, { flows: 2, seed: 8 });
    const cut = join(dir, "first-packet-cut.pcap");
    await writeFile(cut, (await readFile(whole)).subarray(0, 24 + 16 + 10));
    const run = await brocapi(["submit", cut, "--wait"], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^\[0\] first-packet-cut\.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: Zeek exited with 1: fatal error: failed to read a packet from first-packet-cut\.pcap: truncated dump file/m);
    assert.match(run.stdout, /^job failed$/m);
  });

  test("submit of something that is not a capture: the server's status text, exit 3", async () => {
    const text = join(dir, "notes.pcap");
    await writeFile(text, "these are not packets\n".repeat(100_000));
    const run = await brocapi(["submit", text], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 3);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /brocapi: server answered 415: notes\.pcap is not a pcap or pcapng capture \(unknown file format\)\n$/);
  });
});
