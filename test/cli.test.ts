import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { parseCommandLine } from "../services/cli/args.js";
import { AnalysisProgress } from "../services/cli/analysis-progress.js";
import { ApiClient } from "../services/cli/api-client.js";
import type { Job, JobEvent, JobFile, JobList } from "../services/cli/api-types.js";
import { deliveryDone, deliveryProgress, published, sinkExpected } from "../services/cli/delivery.js";
import { findCaptures } from "../services/cli/find-captures.js";
import { EventFilter } from "../services/cli/follow-job.js";
import { formatBytes, formatCapture, formatDuration, formatEvent, formatJobHeader, formatSinkProgress, formatTable, formatTsv, printable } from "../services/cli/format.js";
import { expandGlob, segmentRegExp } from "../services/cli/glob.js";
import { printJobView } from "../services/cli/job-view.js";
import { FileChangedError, multipartBody } from "../services/cli/multipart.js";
import { renderProgress, uploadProgress } from "../services/cli/progress.js";
import { readSse, SseParser, type SseEvent } from "../services/cli/sse.js";
import { BIN, brocapi } from "./helpers/cli.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { LIST_SCAN_MAX } from "../services/api/routes/jobs.js";
import { inWindows } from "../shared/concurrency/in-windows.js";
import { newJobId } from "../shared/jobs/job-id.js";
import type { JobHeader } from "../shared/jobs/job-record.js";
import { JobStore } from "../shared/jobs/job-store.js";
import { PAGE_MAX } from "../shared/jobs/page-limits.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
      recursive: false,
    });
    assert.deepEqual(parseCommandLine(["--url", "http://h:1", "submit", "a.pcap"], env), { kind: "submit", url: "http://h:1", files: ["a.pcap"], wait: false, recursive: false });
    assert.deepEqual(parseCommandLine(["submit", "pcaps/", "more/*.pcap", "-r", "--per-job", "500"], {}), {
      kind: "submit",
      url: "http://127.0.0.1:8080",
      files: ["pcaps/", "more/*.pcap"],
      wait: false,
      recursive: true,
      perJob: 500,
    });
    assert.equal((parseCommandLine(["delete", "x", "--url=https://h/prefix/"], env) as { url: string }).url, "https://h/prefix");
    assert.equal((parseCommandLine(["delete", "x"], {}) as { url: string }).url, "http://127.0.0.1:8080");
    assert.equal((parseCommandLine(["delete", "x"], { BROCAPI_URL: "" }) as { url: string }).url, "http://127.0.0.1:8080", "empty is unset");
    assert.deepEqual(parseCommandLine(["submit", "--tag", "", "--", "--odd-name.pcap"], {}), { kind: "submit", url: "http://127.0.0.1:8080", files: ["--odd-name.pcap"], tag: "", wait: false, recursive: false });
    assert.deepEqual(parseCommandLine(["submit", "r.pcap0", "r.pcap1", "--merge", "--profile", "full"], {}), { kind: "submit", url: "http://127.0.0.1:8080", files: ["r.pcap0", "r.pcap1"], profile: "full", merge: true, wait: false, recursive: false });
  });

  test("jobs, job, logs, delete", () => {
    assert.deepEqual(parseCommandLine(["jobs"], {}), { kind: "jobs", url: "http://127.0.0.1:8080", limit: 20 });
    assert.deepEqual(parseCommandLine(["jobs", "--tag", "t", "--state", "partial", "--limit", "5"], {}), { kind: "jobs", url: "http://127.0.0.1:8080", tag: "t", state: "partial", limit: 5 });
    assert.deepEqual(parseCommandLine(["job", "id1", "--json"], {}), { kind: "job", url: "http://127.0.0.1:8080", id: "id1", json: true, listing: { limit: 20, from: 0, all: false } });
    assert.deepEqual((parseCommandLine(["job", "id1", "--state", "failed,done,failed", "--from", "40", "--limit", "5", "--all"], {}) as { listing: object }).listing, {
      limit: 5,
      from: 40,
      all: true,
      states: ["failed", "done"],
    });
    assert.deepEqual(parseCommandLine(["logs", "id1", "conn"], {}), { kind: "logs", url: "http://127.0.0.1:8080", id: "id1", type: "conn", format: "tsv" });
    assert.equal((parseCommandLine(["logs", "id1", "dns", "--format", "json"], {}) as { format: string }).format, "json");
    assert.deepEqual(parseCommandLine(["delete", "id1"], {}), { kind: "delete", url: "http://127.0.0.1:8080", id: "id1" });
  });

  test("--help anywhere gives the main or the command's help", () => {
    const main = parseCommandLine(["--help"], {});
    assert.equal(main.kind, "help");
    for (const name of ["submit", "jobs", "job", "logs", "delete"]) assert.match((main as { text: string }).text, new RegExp(`^  ${name} `, "m"));
    const sub = parseCommandLine(["submit", "-h"], {}) as { kind: string; text: string };
    assert.match(sub.text, /^Usage: brocapi submit <paths\.\.\.> \[options\]/);
    assert.match(sub.text, /--wait/);
    assert.match(sub.text, /-r, --recursive/);
    assert.match(sub.text, /--per-job N/);
    assert.match(sub.text, /only files whose first bytes are a\s+capture's/, "the rule for files found in folders is in the help");
    assert.match((parseCommandLine(["-h", "logs"], {}) as { text: string }).text, /^Usage: brocapi logs <id> <type>/);
  });

  test("usage errors say what is wrong", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no command given/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["submit"], /submit: missing <paths>/],
      [["submit", "a.pcap", "--per-job", "0"], /--per-job must be a whole number of at least 1, not 0/],
      [["submit", "a.pcap", "--merge", "--per-job", "2"], /--merge and --per-job do not go together/],
      [["job", "i", "--state", "lost"], /--state must be one or more of queued, running, done, failed \(comma-separated\), not lost/],
      [["job", "i", "--from", "1.5"], /--from must be a capture index/],
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
  test("a user name or password in the server URL is refused, and the password is printed nowhere", async () => {
    const secret = "S3CRET";
    const refused = (err: Error): boolean => err.name === "UsageError" && /--token.*BROCAPI_TOKEN_FILE/.test(err.message) && !err.message.includes(secret) && !err.message.includes("alice");
    assert.throws(() => parseCommandLine(["jobs", "--url", `http://alice:${secret}@h:1/`], {}), refused);
    assert.throws(() => parseCommandLine(["jobs"], { BROCAPI_URL: `https://alice:${secret}@h/` }), refused, "from the environment too");
    assert.throws(() => parseCommandLine(["jobs", "--url", `ftp://alice:${secret}@h/`], {}), refused, "before the scheme is judged");
    assert.throws(() => parseCommandLine(["jobs", "--url", `alice:${secret}@h`], {}), (err: Error) => err.name === "UsageError" && !err.message.includes(secret), "parsed as a scheme");
    assert.throws(() => parseCommandLine(["jobs", "--url", `http://alice:${secret}@h:99999/`], {}), (err: Error) => err.name === "UsageError" && /not a URL/.test(err.message) && !err.message.includes(secret), "not a URL at all");
    const capture = join(dir, "secret-url.pcap");
    await writeSyntheticPcap(capture, { flows: 1, seed: 9 });
    for (const args of [["submit", capture, "--url", `http://alice:${secret}@127.0.0.1:1`], ["submit", capture]]) {
      const run = await brocapi(args, { BROCAPI_URL: `http://alice:${secret}@127.0.0.1:1` });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /BROCAPI_TOKEN_FILE/);
      assert.ok(!`${run.stdout}${run.stderr}`.includes(secret), run.stderr);
    }
  });
});

describe("finding captures", () => {
  test("globs as a shell expands them: *, ?, classes, ** across folders, hidden names only when asked", () => {
    const cases: Array<[string, string, boolean]> = [
      ["*.pcap", "a.pcap", true],
      ["*.pcap", ".hidden.pcap", false],
      [".*.pcap", ".hidden.pcap", true],
      ["cap?.pcap", "cap1.pcap", true],
      ["cap?.pcap", "cap10.pcap", false],
      ["cap[0-4].pcap", "cap3.pcap", true],
      ["cap[!0-4].pcap", "cap3.pcap", false],
      ["a+b(1).pcap", "a+b(1).pcap", true],
    ];
    for (const [pattern, name, match] of cases) assert.equal(segmentRegExp(pattern).test(name), match, `${pattern} ~ ${name}`);
  });

  test("folders, sub-folders with --recursive, globs; files that are not captures skipped and counted, named files sent as they are", async () => {
    const root = await mkdtemp(join(dir, "find-"));
    await writeSyntheticPcap(join(root, "cap10.pcap"), { flows: 1, seed: 1 });
    await writeSyntheticPcap(join(root, "cap2.pcap"), { flows: 1, seed: 2 });
    await mkdir(join(root, "sensor", "deeper"), { recursive: true });
    await writeSyntheticPcap(join(root, "sensor", "s1.pcap"), { flows: 1, seed: 3 });
    await writeFile(join(root, "sensor", "deeper", "s2.pcap.gz"), gzipSync(await readFile(join(root, "cap2.pcap"))));
    await writeFile(join(root, "sensor", "deeper", "notes.txt.gz"), gzipSync("not a capture\n"));
    await writeFile(join(root, "README.md"), "# captures of case 42\n");
    await writeFile(join(root, "rotating.pcap"), "");
    await writeFile(join(root, ".DS_Store"), "x");
    const rel = (paths: readonly { path: string }[] | readonly string[]): string[] => paths.map((p) => (typeof p === "string" ? p : p.path).slice(root.length + 1));

    const top = await findCaptures([root], false);
    assert.deepEqual(rel(top.files), ["cap2.pcap", "cap10.pcap"], "captures by name, cap2 before cap10");
    assert.deepEqual(rel(top.notCaptures), ["README.md"]);
    assert.deepEqual(rel(top.empty), ["rotating.pcap"]);
    assert.deepEqual(rel(top.folders), ["sensor"]);
    assert.equal(top.hidden, 1);

    const all = await findCaptures([root, join(root, "cap2.pcap")], true);
    assert.deepEqual(rel(all.files), ["cap2.pcap", "cap10.pcap", "sensor/s1.pcap", "sensor/deeper/s2.pcap.gz"], "a gzip capture is recognised inside; cap2 named twice goes once");
    assert.deepEqual(rel(all.notCaptures), ["README.md", "sensor/deeper/notes.txt.gz"]);
    assert.deepEqual(all.folders, []);

    assert.deepEqual(rel(await expandGlob(join(root, "**", "*.pcap*"))), ["cap2.pcap", "cap10.pcap", "rotating.pcap", "sensor/deeper/s2.pcap.gz", "sensor/s1.pcap"]);
    const globbed = await findCaptures([join(root, "*", "*.pcap")], false);
    assert.deepEqual(rel(globbed.files), ["sensor/s1.pcap"]);
    const named = await findCaptures([join(root, "README.md")], false);
    assert.deepEqual(rel(named.files), ["README.md"], "a file named on its own goes as it is: the server says why it refuses it");
    await assert.rejects(findCaptures([join(root, "*.pcapng")], false), /nothing matches .*\*\.pcapng/);
    await assert.rejects(findCaptures([join(root, "missing.pcap")], false), /cannot read .*missing\.pcap: ENOENT/);
  });

  test("a found file that cannot be read is skipped and counted; one named on the command line is a usage error (exit 2), never a stack trace", async () => {
    const root = await mkdtemp(join(dir, "unreadable-"));
    await writeSyntheticPcap(join(root, "good.pcap"), { flows: 1, seed: 4 });
    await symlink(join(root, "removed.pcap"), join(root, "gone.pcap"));
    const inFolder = await findCaptures([root], false);
    assert.deepEqual(inFolder.files.map((f) => f.path), [join(root, "good.pcap")]);
    assert.deepEqual(inFolder.unreadable, [{ path: join(root, "gone.pcap"), reason: "ENOENT" }], "a dangling link in a folder is counted, not dropped silently");
    const globbed = await findCaptures([join(root, "*.pcap")], false);
    assert.deepEqual(globbed.unreadable, [{ path: join(root, "gone.pcap"), reason: "ENOENT" }]);
    await assert.rejects(findCaptures([join(root, "gone.pcap")], false), (err: Error) => err.name === "UsageError" && /cannot read .*gone\.pcap/.test(err.message));

    const onlyLink = await mkdtemp(join(dir, "unreadable-only-"));
    await symlink(join(onlyLink, "removed.pcap"), join(onlyLink, "gone.pcap"));
    for (const arg of [onlyLink, join(onlyLink, "*.pcap")]) {
      const run = await brocapi(["submit", arg, "--url", "http://127.0.0.1:1"]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^skipped 1 unreadable file: .*gone\.pcap \(ENOENT\)\nbrocapi: no captures to send in /, arg);
      assert.doesNotMatch(run.stderr, /\n {4}at /, "no stack trace");
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

  test("many files: each is opened only while its part is sent, so one descriptor at a time", async () => {
    const many = await mkdtemp(join(dir, "fds-"));
    const files = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const path = join(many, `c${i}.pcap`);
        await writeFile(path, randomBytes(100));
        return { field: "file[]", path, fileName: `c${i}.pcap`, size: 100 };
      }),
    );
    const openFds = (): number => readdirSync("/proc/self/fd").length;
    const before = openFds();
    const body = multipartBody([], files);
    let most = 0;
    let bytes = 0;
    let parts = 0;
    for await (const chunk of body.stream(() => parts++)) {
      bytes += chunk.length;
      most = Math.max(most, openFds() - before);
    }
    assert.equal(bytes, body.length);
    assert.equal(parts, 300);
    assert.ok(most <= 1, `at most one file open at once, saw ${most} more descriptors`);
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

  test("job header and capture lines: counts, lines, each sink; a failed capture's exit code and first stderr line; compressed and salvaged captures", () => {
    const job: Job = {
      id: "6f0c0000-0000-4000-8000-000000000000",
      tag: "case42",
      state: "partial",
      format: "tsv",
      profile: "default",
      merge: false,
      submittedAt: "2025-01-01T00:00:00.000Z",
      startedAt: "2025-01-01T00:00:01.000Z",
      finishedAt: "2025-01-01T00:00:03.500Z",
      files: [],
      counts: { total: 3, queued: 0, running: 0, done: 2, failed: 1 },
      lines: { conn: 20, dns: 3 },
      next_cursor: "0",
      sinks: {
        // A conn-only syslog instance (its expected lines from the api), a directory from an api that gives none.
        syslog: { lines: 0, expected: 20, lastError: "connect ECONNREFUSED 127.0.0.1:514", lastErrorAt: "2025-01-01T00:00:04.000Z", updatedAt: "2025-01-01T00:00:04.000Z" },
        directory: { lines: 23, updatedAt: "2025-01-01T00:00:04.000Z" },
        // An instance that owes the job its dns lines, has not reported it, and stopped.
        "dns-only": { lines: 0, expected: 3, seenAt: "2024-12-31T23:00:00.000Z", running: false },
      },
    };
    assert.equal(
      formatJobHeader(job),
      [
        "job 6f0c0000-0000-4000-8000-000000000000  partial  tag case42  format tsv  profile default",
        "submitted 2025-01-01T00:00:00.000Z  finished 2025-01-01T00:00:03.500Z  took 2.5 s",
        "captures: 3 (2 done, 1 failed)",
        "lines: conn 20, dns 3",
        "sinks:",
        "  directory  23 of 23 lines delivered",
        "  dns-only  0 of 3 lines delivered  not running, last seen at 2024-12-31T23:00:00.000Z",
        "  syslog  0 of 20 lines delivered  last error at 2025-01-01T00:00:04.000Z: connect ECONNREFUSED 127.0.0.1:514",
        "",
      ].join("\n"),
    );
    const files: JobFile[] = [
      {
        index: 0,
        name: "good.pcap",
        object: "o0",
        size: 2048,
        sha256: "x",
        compressed: { encoding: "gzip", size: 700, sha256: "g" },
        state: "done",
        attempts: 1,
        durationMs: 1200,
        lines: { dns: 3, conn: 20 },
        analysedBy: { host: "host-b", pid: 42, worker: "worker-1" },
      },
      { index: 2, name: "killed.pcap", object: "o2", size: 3000, sha256: "z", state: "done", attempts: 1, lines: { conn: 5 }, salvaged: { bytesKept: 2900, packetsKept: 31, bytesDropped: 100 } },
      {
        index: 1,
        name: "cut.pcap",
        object: "o1",
        size: 900,
        sha256: "y",
        state: "failed",
        attempts: 1,
        zeekExitCode: 1,
        zeekStderr: "\nfatal error in <params>, line 1: failed to read a packet\nsecond line",
        error: { code: "BROCAPI_ZEEK_REJECTED_INPUT", message: "zeek exited 1" },
        lines: {},
      },
    ];
    assert.deepEqual(files.map(formatCapture), [
      "  [0] good.pcap  2.0 KiB  sent gzip-compressed, 700 B  done  1.2 s  conn 20, dns 3  by worker-1 (host host-b, pid 42)",
      "  [2] killed.pcap  2.9 KiB  done  salvaged: cut mid-packet, analysed 31 packets (2.8 KiB), dropped 100 B  conn 5",
      "  [1] cut.pcap  900 B  failed  Zeek exited 1: fatal error in <params>, line 1: failed to read a packet",
    ]);
  });

  /** A stream standing in for stderr: what was written, and whether it claims to be a terminal. */
  const fakeStream = (isTTY: boolean): NodeJS.WriteStream & { text: string } => {
    const out = { text: "", isTTY, columns: 100, write: (s: string) => ((out.text += s), true) };
    return out as unknown as NodeJS.WriteStream & { text: string };
  };

  test("upload progress across many captures: one redrawn line on a terminal; without one, a line per tenth and a closing summary", () => {
    const tty = fakeStream(true);
    const bar = uploadProgress(tty, { files: 1000, bytes: 1000 * 1024, what: "1000 captures to http://h" });
    for (let i = 0; i < 1000; i++) {
      bar.file();
      bar.advance(1024);
    }
    bar.above(() => void (tty.text += "JOB-ID\n"));
    bar.finish({ jobs: 1, captures: 1000 });
    const [drawn, idLine, summary, ...rest] = tty.text.split(/(?<=\n)/);
    assert.deepEqual(rest, []);
    assert.match(drawn!, /\r\x1b\[2KJOB-ID\n$/, "the id is written on a cleared line, not inside the bar");
    assert.match(idLine!, /^(\r\x1b\[2K\[#+\]  100%[^\n]*)+\n$/, "the bar is drawn again below it");
    assert.match(tty.text, /\r\x1b\[2K\[#+\]  100%  1000\/1000 captures  1000\.0 KiB \/ 1000\.0 KiB/);
    assert.match(summary!, /^sent 1000\.0 KiB in .+: 1000 captures\n$/);

    const plain = fakeStream(false);
    const lines = uploadProgress(plain, { files: 1000, bytes: 1000 * 1024, what: "1000 captures to http://h as 4 jobs of at most 250" });
    for (let i = 0; i < 1000; i++) {
      lines.file();
      lines.advance(1024);
    }
    lines.finish({ jobs: 4, captures: 1000 });
    const out = plain.text.split("\n").filter(Boolean);
    assert.equal(out[0], "uploading 1000 captures to http://h as 4 jobs of at most 250, 1000.0 KiB");
    assert.deepEqual(out.slice(1, -1), [1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => `sent ${t * 100} of 1000 captures, ${t * 100}.0 KiB of 1000.0 KiB`));
    assert.match(out.at(-1)!, /^sent 1000\.0 KiB in .+: 1000 captures in 4 jobs$/);
  });

  test("following a big job: failures as lines, the rest counted (a line per tenth without a terminal)", () => {
    const printed: string[] = [];
    const at = "2025-01-01T00:00:00Z";
    const view = new AnalysisProgress(100, (l) => void printed.push(l), fakeStream(false));
    view.event({ type: "job.queued", jobId: "j", at, files: ["c0.pcap"], count: 100 });
    for (let i = 0; i < 100; i++) {
      view.event({ type: "file.started", jobId: "j", at, fileIndex: i, name: `c${i}.pcap`, attempt: 1 });
      view.event(
        i === 37
          ? { type: "file.finished", jobId: "j", at, fileIndex: i, name: "c37.pcap", state: "failed", lines: {}, error: { code: "BROCAPI_ZEEK_REJECTED_INPUT", message: "bad" } }
          : { type: "file.finished", jobId: "j", at, fileIndex: i, name: `c${i}.pcap`, state: "done", lines: { conn: 1 } },
      );
      view.event({ type: "lines.delivered", jobId: "j", at, sink: "directory", lines: i + 1 });
    }
    view.event({ type: "job.finished", jobId: "j", at, state: "partial" });
    assert.equal(printed[0], "queued: 100 captures");
    assert.ok(printed.includes("[37] c37.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: bad"));
    assert.equal(printed.filter((l) => l.startsWith("analysed ")).length, 10);
    assert.ok(printed.includes("analysed 100 of 100 captures: 99 done, 1 failed"));
    assert.equal(printed.at(-1), "job partial");
    assert.equal(printed.length, 13, "no line per start, success or sink count");
  });

  test("delivery is done when every sink that reported delivered or rejected every published line (or its audit settled a skip); not before a sink reported", () => {
    const job = (lines: Record<string, number>, sinks: Record<string, { lines: number; rejected?: number; replayed?: number; audit?: { missing: number; action: "replay" | "report"; at: string } }>) => ({ lines, sinks });
    assert.equal(published(job({ conn: 3, dns: 4 }, {})), 7);
    assert.equal(deliveryDone(job({}, {})), true, "nothing published: nothing to wait for");
    assert.equal(deliveryDone(job({ conn: 3 }, {})), false, "no sink has reported yet");
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 3 } })), true);
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 1, rejected: 2 } })), true, "rejected lines count as settled");
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 3 }, b: { lines: 1, rejected: 1 } })), false, "one sink still owes a line");
    // The sink audit (docs/SINKS.md): a skip replayed counts once its replay is in; a skip reported is settled.
    const at = "2026-12-02T00:00:00Z";
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 2, replayed: 1, audit: { missing: 1, action: "replay", at } } })), true, "repaired by the audit's replay");
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 2, audit: { missing: 1, action: "replay", at } } })), false, "the audit's replay still running");
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 2, replayed: 3 } })), false, "an operator's replay of a whole job is no delivery of the live lines");
    assert.equal(deliveryDone(job({ conn: 3 }, { a: { lines: 2, audit: { missing: 1, action: "report", at } } })), true, "reported: nothing more comes by itself");
  });

  test("delivery to a sink whose routing takes part of the job is done at its expected lines; without expected (an older api), at every published line", () => {
    const job = (sinks: Record<string, { lines: number; rejected?: number; expected?: number }>) => ({ lines: { conn: 30, dns: 10 }, sinks });
    assert.equal(deliveryDone(job({ connOnly: { lines: 30, expected: 30 } })), true, "a conn-only sink with every conn line");
    assert.equal(deliveryDone(job({ connOnly: { lines: 29, expected: 30 } })), false, "one conn line still to come");
    assert.equal(deliveryDone(job({ connOnly: { lines: 29, rejected: 1, expected: 30 } })), true, "a rejected line is settled there too");
    assert.equal(deliveryDone(job({ connOnly: { lines: 30, expected: 30 }, all: { lines: 39, expected: 40 } })), false, "another sink still owes a line");
    assert.equal(deliveryDone(job({ routedAway: { lines: 0, expected: 0 }, all: { lines: 40, expected: 40 } })), true, "a record whose routing takes none of the job");
    assert.equal(deliveryDone(job({ unknown: { lines: 30 } })), false, "no expected: every published line");
    assert.equal(deliveryDone(job({ unknown: { lines: 40 } })), true);
    assert.equal(sinkExpected({ expected: 30 }, 40), 30);
    assert.equal(sinkExpected({}, 40), 40);
  });

  test("delivery waits for a running sink the api lists before it reported (lines 0), not for one that stopped", () => {
    const job = (sinks: Record<string, { lines: number; expected?: number; running?: boolean }>) => ({ lines: { conn: 30, dns: 10 }, sinks });
    assert.equal(deliveryDone(job({ all: { lines: 40, expected: 40, running: true }, connOnly: { lines: 0, expected: 30, running: true } })), false, "a running sink's first count is still to come");
    assert.equal(deliveryDone(job({ all: { lines: 40, expected: 40, running: true }, connOnly: { lines: 0, expected: 30, running: false } })), true, "a stopped sink is not waited for");
    assert.equal(deliveryDone(job({ all: { lines: 40, expected: 40 }, connOnly: { lines: 12, expected: 30, running: false } })), true, "nor one that stopped part-way");
    assert.equal(deliveryDone(job({ connOnly: { lines: 0, expected: 30, running: false } })), false, "only stopped sinks listed: as with none, a first count may still come from a sink that does not say it runs");
    assert.equal(
      formatSinkProgress("connOnly", { lines: 0, running: false, seenAt: "2025-01-01T00:00:00.000Z" }, 30),
      "sink connOnly: 0 of 30 lines delivered; not running, last seen at 2025-01-01T00:00:00.000Z: not waited for, what it owes ships when it runs again",
    );
    assert.equal(formatSinkProgress("connOnly", { lines: 0, running: true, seenAt: "2025-01-01T00:00:00.000Z" }, 30), "sink connOnly: 0 of 30 lines delivered");
  });

  test("a presence refresh is no progress: a wait for delivery gives up on a sink stuck short though its seenAt moves", () => {
    // What the web page's job view compares between status reads (and --wait per sink).
    const stuck = { lines: 0, expected: 30, running: true, seenAt: "2025-01-01T00:00:00.000Z" };
    const sinks = (s: Record<string, unknown>) => ({ all: { lines: 40, expected: 40, running: true, seenAt: "2025-01-01T00:00:10.000Z", updatedAt: "2025-01-01T00:00:01.000Z" }, stuck, ...s });
    const before = deliveryProgress(sinks({}));
    assert.equal(deliveryProgress(sinks({ stuck: { ...stuck, seenAt: "2025-01-01T00:00:30.000Z" } })), before, "its shipper said it runs, nothing delivered");
    assert.equal(deliveryProgress(sinks({ stuck: { ...stuck, lastError: "connect ECONNREFUSED", lastErrorAt: "2025-01-01T00:00:31.000Z", updatedAt: "2025-01-01T00:00:31.000Z" } })), before, "its error recorded again");
    assert.notEqual(deliveryProgress(sinks({ stuck: { ...stuck, lines: 1 } })), before, "a line delivered");
    assert.notEqual(deliveryProgress(sinks({ stuck: { ...stuck, running: false } })), before, "found stopped");
    assert.notEqual(deliveryProgress(sinks({ stuck: { ...stuck, audit: { action: "replay", missing: 30, at: "2025-01-01T00:00:40.000Z" } } })), before, "its audit's finding");
    assert.notEqual(deliveryProgress(sinks({ late: { lines: 0, expected: 40, running: true } })), before, "a sink newly listed");
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
      formatEvent({ type: "lines.delivered", jobId: "j", at, sink: "hook", lines: 5, rejected: 2, lastError: "400\u001b[2J\nbody" }),
      formatEvent({ type: "job.finished", jobId: "j", at, state: "partial" }),
    ];
    assert.deepEqual(lines, [
      "queued: a.pcap, b.pcap",
      "[1] b.pcap: Zeek running (attempt 2)",
      "[0] a.pcap: done, conn 7",
      "[1] b.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: truncated dump file",
      "[2] c.pcap: warning: c.pcap was cut off mid-packet: …",
      "sink directory: 7 lines delivered",
      "sink hook: 5 lines delivered, 2 rejected (last error: 400?[2J)",
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

  /** The server's answer to a submission: the job `id` queued with one capture named `name`. */
  const queuesJob = (id: string, name: string): void =>
    void script.set("POST /submit/pcap", (req, res) => {
      req.resume();
      req.on("end", () => json({ status: "job queued", files: [name], tag: null, job_id: id, success: true })(req, res));
    });
  /** `brocapi submit <a 4-byte file named name> --wait` against the scripted server. */
  const submitWait = async (name: string): Promise<Awaited<ReturnType<typeof brocapi>>> => {
    const path = join(dir, name);
    await writeFile(path, "abcd");
    return brocapi(["submit", path, "--wait"], { BROCAPI_URL: url });
  };
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
    const capture = { index: 0, name: "x.pcap", object: "o", size: 4, sha256: "s", state: "failed", attempts: 1, zeekExitCode: 1, zeekStderr: "bad", lines: {} };
    const counts = { total: 1, queued: 0, running: 0, done: 0, failed: 1 };
    const job = { id, tag: null, state: "failed", format: "tsv", profile: "default", submittedAt: at, counts, files: [capture], next_cursor: null, lines: {}, sinks: {} };
    queuesJob(id, "x.pcap");
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
    script.set(`GET /jobs/${id}?limit=0`, json({ ...job, files: [], next_cursor: "0" }));
    script.set(`GET /jobs/${id}/captures?state=failed&cursor=0&limit=20`, json({ job_id: id, captures: [capture], next_cursor: null, remaining: 0 }));
    const run = await submitWait("x.pcap");
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout.split("\n").slice(0, 4).join("\n"), `${id}\n[0] x.pcap: Zeek running\n[0] x.pcap: failed, BROCAPI_ZEEK_REJECTED_INPUT: bad\njob failed`);
    assert.match(run.stdout, /^failed captures \(1\):\n {2}\[0\] x\.pcap {2}4 B {2}failed {2}Zeek exited 1: bad\n/m);
    assert.match(run.stderr, /^uploading 1 capture to http:\/\/127\.0\.0\.1:\d+, 204 B\nsent 204 B in \d+ ms\n$/);
  });

  test("submit --wait: a stream that breaks off is reopened after the last event read (Last-Event-ID), each event shown once", async () => {
    const id = "6f0c0000-0000-4000-8000-000000000005";
    const at = "2025-01-01T00:00:00Z";
    const capture = { index: 0, name: "y.pcap", object: "o", size: 4, sha256: "s", state: "done", attempts: 1, zeekExitCode: 0, lines: { conn: 2 } };
    const job = { id, tag: null, state: "done", format: "tsv", profile: "default", submittedAt: at, counts: { total: 1, queued: 0, running: 0, done: 1, failed: 0 }, files: [capture], next_cursor: null, lines: { conn: 2 }, sinks: { directory: { lines: 2, updatedAt: at } } };
    queuesJob(id, "y.pcap");
    const resumedAfter: Array<string | undefined> = [];
    script.set(`GET /jobs/${id}/events`, (req, res) => {
      resumedAfter.push(req.headers["last-event-id"] as string | undefined);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (seq: number, type: string, data: object): string => `event: ${type}\nid: ${seq}\ndata: ${JSON.stringify({ type, jobId: id, at, ...data })}\n\n`;
      const status = `event: status\ndata: ${JSON.stringify({ ...job, state: "running", counts: { ...job.counts, running: 1, done: 0 } })}\n\n`;
      if (resumedAfter.length === 1) {
        // The connection drops after the capture started: no job.finished.
        res.write(status + event(4, "file.started", { fileIndex: 0, name: "y.pcap", attempt: 1 }), () => res.destroy());
      } else {
        res.end(status + event(7, "file.finished", { fileIndex: 0, name: "y.pcap", state: "done", lines: { conn: 2 } }) + event(8, "job.finished", { state: "done" }));
      }
    });
    script.set(`GET /jobs/${id}?limit=0`, json({ ...job, files: [], next_cursor: "0" }));
    script.set(`GET /jobs/${id}/captures?state=queued%2Crunning%2Cdone&cursor=0&limit=20`, json({ job_id: id, captures: [capture], next_cursor: null, remaining: 0 }));
    const run = await submitWait("y.pcap");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(resumedAfter, [undefined, "4"], "the second connection resumes after event 4");
    assert.equal(run.stdout.split("\n").slice(0, 4).join("\n"), `${id}\n[0] y.pcap: Zeek running\n[0] y.pcap: done, conn 2\njob done`);
  });

  test("submit --wait on a big job already over when followed: its final count and state from the status, not its history replayed", async () => {
    const id = "6f0c0000-0000-4000-8000-000000000004";
    const at = "2025-01-01T00:00:00Z";
    const total = 25;
    const captures = [...Array(total).keys()].map((index) => ({ index, name: `c${index}.pcap`, object: "o", size: 4, sha256: "s", state: index === 3 ? "failed" : "done", attempts: 1, lines: {} }));
    const counts = { total, queued: 0, running: 0, done: total - 1, failed: 1 };
    const job = { id, tag: null, state: "partial", format: "tsv", profile: "default", submittedAt: at, counts, files: [], next_cursor: "0", lines: {}, sinks: {} };
    queuesJob(id, "x.pcap");
    script.set(`GET /jobs/${id}/events`, (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, jobId: id, at, ...data })}\n\n`;
      // The whole history follows the status, as the api sends it: read, it would print the queued line, the failure and the tenths.
      const history = [event("job.queued", { files: captures.map((c) => c.name) }), ...captures.map((c) => event("file.finished", { fileIndex: c.index, name: c.name, state: c.state, lines: {} }))];
      res.end(event("status", job) + history.join("") + event("job.finished", { state: "partial" }));
    });
    script.set(`GET /jobs/${id}?limit=0`, json(job));
    script.set(`GET /jobs/${id}/captures?state=failed&cursor=0&limit=20`, json({ job_id: id, captures: [captures[3]], next_cursor: null, remaining: 0 }));
    script.set(`GET /jobs/${id}/captures?state=queued%2Crunning%2Cdone&cursor=0&limit=20`, json({ job_id: id, captures: captures.slice(0, 21).filter((c) => c.index !== 3), next_cursor: "21", remaining: 4 }));
    seen.length = 0;
    const run = await submitWait("x.pcap");
    assert.equal(run.code, 1, run.stderr + seen.join("\n"));
    assert.equal(run.stdout.split("\n").slice(0, 3).join("\n"), `${id}\nanalysed 25 of 25 captures: 24 done, 1 failed\njob partial`);
    assert.match(run.stdout, /^failed captures \(1\):\n {2}\[3\] c3\.pcap /m, "the failure is in the job's view");
  });

  test("submit --wait: a sink that rejected lines (the destination refused them for good) has nothing more to deliver: the wait ends there", async () => {
    const id = "6f0c0000-0000-4000-8000-000000000002";
    const at = "2025-01-01T00:00:00Z";
    const capture = { index: 0, name: "r.pcap", object: "o", size: 4, sha256: "s", state: "done", attempts: 1, lines: { conn: 3 } };
    const counts = { total: 1, queued: 0, running: 0, done: 1, failed: 0 };
    // A second sink whose name and error carry terminal escapes and a second line: the server's text reaches the terminal made printable, its first line only.
    const sinks = { hook: { lines: 1, rejected: 2, updatedAt: at, lastError: "http http://127.0.0.1:9/: 400 bad request" }, "odd\u001b[2J": { lines: 3, updatedAt: at, lastError: "refused\u001b[31m\n    at stack" } };
    const job = { id, tag: null, state: "done", format: "tsv", profile: "default", submittedAt: at, counts, files: [capture], next_cursor: null, lines: { conn: 3 }, sinks };
    queuesJob(id, "r.pcap");
    script.set(`GET /jobs/${id}/events`, (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`event: status\ndata: ${JSON.stringify(job)}\n\nevent: job.finished\ndata: ${JSON.stringify({ type: "job.finished", jobId: id, at, state: "done" })}\n\n`);
    });
    script.set(`GET /jobs/${id}?limit=0`, json({ ...job, files: [], next_cursor: "0" }));
    script.set(`GET /jobs/${id}/captures?state=queued%2Crunning%2Cdone&cursor=0&limit=20`, json({ job_id: id, captures: [capture], next_cursor: null, remaining: 0 }));
    const run = await submitWait("r.pcap");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^sink hook: 1 of 3 lines delivered, 2 rejected \(last error: http http:\/\/127\.0\.0\.1:9\/: 400 bad request\)$/m);
    assert.doesNotMatch(run.stdout, /have not caught up|no sink has reported/, "the wait ended on the counts, not after 30 s without progress");
    assert.match(run.stdout, /^sink odd\?\[2J: 3 of 3 lines delivered \(last error: refused\?\[31m\)$/m);
    assert.ok(!run.stdout.includes("\u001b") && !run.stdout.includes("at stack"), run.stdout);
  });

  test("submit --wait: a stream that drops more than five times, each time after news, is followed to the job's end", async () => {
    const id = "6f0c0000-0000-4000-8000-000000000003";
    const at = "2025-01-01T00:00:00Z";
    const drops = 7;
    const counts = { total: drops, queued: 0, running: 0, done: drops, failed: 0 };
    const captures = [...Array(drops).keys()].map((index) => ({ index, name: `c${index}.pcap`, object: "o", size: 4, sha256: "s", state: "done", attempts: 1, lines: {} }));
    const job = { id, tag: null, state: "done", format: "tsv", profile: "default", submittedAt: at, counts, files: [], next_cursor: "0", lines: {}, sinks: {} };
    queuesJob(id, "x.pcap");
    let connections = 0;
    script.set(`GET /jobs/${id}/events`, (_req, res) => {
      const n = connections++;
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, jobId: id, at, ...data })}\n\n`;
      // Each connection replays the history and adds one capture's end, then the connection drops; the last one ends the job.
      const history = captures.slice(0, n + 1).map((c) => event("file.finished", { fileIndex: c.index, name: c.name, state: "done", lines: {} }));
      const text = event("status", { ...job, state: "running", counts: { ...counts, running: drops, done: 0 } }) + history.join("");
      if (n < drops) res.write(text, () => res.destroy());
      else res.end(text + event("job.finished", { state: "done" }));
    });
    script.set(`GET /jobs/${id}?limit=0`, json(job));
    script.set(`GET /jobs/${id}/captures?state=queued%2Crunning%2Cdone&cursor=0&limit=20`, json({ job_id: id, captures, next_cursor: null, remaining: 0 }));
    const run = await submitWait("x.pcap");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(connections, drops + 1);
    assert.deepEqual(run.stdout.split("\n").filter((l) => /: done/.test(l)), captures.map((c) => `[${c.index}] ${c.name}: done, no lines`), "each capture's end once");
    assert.match(run.stdout, /^job done$/m);
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

  test("submit a folder: its captures only, what was skipped said on stderr; --recursive --per-job 2 --wait: three jobs, each followed and shown, failures first", async () => {
    const tree = await mkdtemp(join(dir, "tree-"));
    await mkdir(join(tree, "sub", "deep"), { recursive: true });
    for (const [i, name] of ["a1.pcap", "a2.pcap", "sub/b1.pcap", "sub/deep/b2.pcap"].entries()) await writeSyntheticPcap(join(tree, name), { flows: 2, seed: 20 + i });
    // Cut inside its first packet: Zeek refuses it.
    await writeFile(join(tree, "sub", "deep", "a-cut.pcap"), (await readFile(join(tree, "a1.pcap"))).subarray(0, 24 + 16 + 10));
    await writeFile(join(tree, "notes.txt"), "case notes, not packets\n");

    const flat = await brocapi(["submit", tree], { BROCAPI_URL: stack.url });
    assert.equal(flat.code, 0, flat.stderr);
    assert.match(flat.stderr, /^skipped 1 file that is not a capture: .*notes\.txt$/m);
    assert.match(flat.stderr, /^skipped 1 sub-folder \(add --recursive to include them\): .*sub$/m);
    const flatJob = (await (await fetch(`${stack.url}/jobs/${flat.stdout.trim()}?limit=0`)).json()) as Job;
    assert.equal(flatJob.counts.total, 2, "a1 and a2 only");

    const run = await brocapi(["submit", tree, "--recursive", "--per-job", "2", "--tag", "cli-tree", "--wait"], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 1, `one job is partial: ${run.stdout}\n${run.stderr}`);
    const ids = run.stdout.split("\n").slice(0, 3);
    assert.ok(ids.every((id) => UUID.test(id)) && new Set(ids).size === 3, run.stdout);
    assert.match(run.stderr, /^uploading 5 captures to .* as 3 jobs of at most 2, /m);
    assert.match(run.stderr, /^sent .* in .*: 5 captures in 3 jobs$/m);
    for (const [i, id] of ids.entries()) assert.match(run.stdout, new RegExp(`^job ${i + 1} of 3: ${id}$`, "m"));
    const sizes = await Promise.all(ids.map(async (id) => ((await (await fetch(`${stack.url}/jobs/${id}?limit=0`)).json()) as Job).counts.total));
    assert.deepEqual(sizes, [2, 2, 1]);
    // Job 2 holds sub/b1.pcap and sub/deep/a-cut.pcap (folders walked depth first, names in order).
    assert.match(run.stdout, new RegExp(`^job ${ids[1]}  partial  tag cli-tree  format tsv  profile default\n.*\ncaptures: 2 \\(1 done, 1 failed\\)\n(.*\n)*?failed captures \\(1\\):\n  \\[1\\] a-cut\\.pcap .* failed .*Zeek exited 1: .*\nother captures \\(1\\):\n  \\[0\\] b1\\.pcap .* done `, "m"));
  });

  test("--per-job: a job refused midway leaves the ones before it, names the first file not sent, exit 3", async () => {
    const set = await mkdtemp(join(dir, "refused-"));
    await writeSyntheticPcap(join(set, "1.pcap"), { flows: 1, seed: 40 });
    await writeFile(join(set, "2.pcap"), "not packets\n");
    await writeSyntheticPcap(join(set, "3.pcap"), { flows: 1, seed: 41 });
    // Named one by one, so the non-capture is sent and the server refuses its job.
    const run = await brocapi(["submit", ...["1.pcap", "2.pcap", "3.pcap"].map((n) => join(set, n)), "--per-job", "1"], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 3, run.stderr);
    const ids = run.stdout.split("\n").filter(Boolean);
    assert.equal(ids.length, 1);
    assert.match(ids[0]!, UUID);
    assert.match(run.stderr, /^brocapi: job 2 of 3 was not accepted: server answered 415: 2\.pcap is not a pcap or pcapng capture .*; the job accepted is listed above; nothing from .*2\.pcap on was submitted$/m);
    assert.match(run.stderr, /^sent .* of .*: 1 of 3 captures in 1 job accepted$/m, "the summary says how far it got");
  });

  test("a quoted glob, progress lines across many captures; brocapi job: failures first, then the others a page at a time, paging on as it says", async () => {
    const many = await mkdtemp(join(dir, "many-"));
    const good = join(dir, "tiny.pcap");
    await writeSyntheticPcap(good, { flows: 1, seed: 30 });
    const bytes = await readFile(good);
    for (let i = 0; i < 10; i++) await writeFile(join(many, `c${String(i).padStart(2, "0")}.pcap`), i === 4 || i === 7 ? bytes.subarray(0, 24 + 16 + 10) : bytes);
    await writeFile(join(many, "list.txt"), "c00.pcap\n");

    const run = await brocapi(["submit", join(many, "c*.pcap")], { BROCAPI_URL: stack.url });
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, UUID);
    const steps = [...run.stderr.matchAll(/^sent (\d+) of 10 captures, /gm)].map((m) => Number(m[1]));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9], "a line at each tenth of the captures");
    assert.match(run.stderr, /^sent .* in .*: 10 captures$/m);
    // Ten captures through one worker: generous on a loaded machine.
    await stack.waitForJob(id, 120_000);

    const view = await brocapi(["job", id, "--limit", "3"], { BROCAPI_URL: stack.url });
    assert.equal(view.code, 0, view.stderr);
    const lines = view.stdout.split("\n");
    const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix));
    assert.ok(lines.includes("captures: 10 (8 done, 2 failed)"), view.stdout);
    assert.ok(at("failed captures") < at("other captures"), "failures first");
    assert.deepEqual(lines.slice(at("failed captures"), at("failed captures") + 3).map((l) => l.replace(/\.pcap .*/, "")), ["failed captures (2):", "  [4] c04", "  [7] c07"]);
    assert.match(lines[at("failed captures") + 1]!, / failed {2}.* {2}Zeek exited 1: fatal error: failed to read a packet from c04\.pcap/);
    assert.deepEqual(lines.slice(at("other captures"), at("other captures") + 4).map((l) => l.replace(/\.pcap .*/, "")), ["other captures (8):", "  [0] c00", "  [1] c01", "  [2] c02"]);
    const more = lines.find((l) => l.startsWith("  … "));
    assert.equal(more, `  … 5 more: brocapi job ${id} --limit 3 --from 3 (or --all)`);

    // The printed command pages on (in-process here: the same code, over HTTP).
    const page = async (argv: string[]): Promise<string[]> => {
      const cmd = parseCommandLine(argv, { BROCAPI_URL: stack.url });
      assert.equal(cmd.kind, "job");
      if (cmd.kind !== "job") return [];
      const client = new ApiClient(cmd.url);
      let text = "";
      await printJobView(client, await client.job(id, 0), cmd.listing, (t) => void (text += t));
      return text.split("\n").filter((l) => /^ {2}(\[|…)/.test(l));
    };
    const next = await page(more!.replace(/^ {2}… \d+ more: brocapi /, "").replace(/ \(or --all\)$/, "").split(" "));
    assert.deepEqual(next.map((l) => l.replace(/\.pcap .*/, "")), ["  [4] c04", "  [7] c07", "  [3] c03", "  [5] c05", "  [6] c06", `  … 2 more: brocapi job ${id} --limit 3 --from 8 (or --all)`]);
    const everything = await page(["job", id, "--all", "--limit", "2"]);
    assert.equal(everything.filter((l) => / done /.test(l)).length, 8);
    assert.ok(!everything.some((l) => l.startsWith("  … ")), "nothing more after --all");
    const failedOnly = await page(["job", id, "--state", "failed", "--limit", "1"]);
    assert.deepEqual(failedOnly.map((l) => l.replace(/\.pcap .*/, "")), ["  [4] c04", `  … 1 more: brocapi job ${id} --state failed --limit 1 --from 7 (or --all)`]);
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

describe("brocapi jobs against an api holding more jobs than one request examines", () => {
  let nats: TestNats;
  let stack: Stack;
  /** Oldest first: one failed job tagged `rare`, then enough done ones that a request examining LIST_SCAN_MAX never reaches it. */
  const ids: string[] = [];

  before(async () => {
    nats = await startTestNats();
    // The api alone: the jobs are header keys written through JobStore (nothing to analyse).
    stack = await startStack({ natsUrl: nats.url, services: ["api"] });
    const store = new JobStore(stack.ctx.topology);
    const start = Date.now() - 3_600_000;
    for (let n = 0; n <= LIST_SCAN_MAX + 100; n++) ids.push(newJobId(start + n));
    const header = (id: string, n: number): JobHeader => ({
      layout: 2,
      id,
      tag: n === 0 ? "rare" : "filler",
      state: n === 0 ? "failed" : "done",
      format: "tsv",
      submittedAt: new Date(start + n).toISOString(),
      finishedAt: new Date(start + n).toISOString(),
      files: 0,
      shards: 0,
      counts: { total: 0, queued: 0, running: 0, done: 0, failed: 0 },
      lines: {},
    });
    // The index in submission order, so the rare job is the oldest entry.
    await inWindows([...ids.entries()], 256, ([n, id]) => store.createHeader(header(id, n)));
    for (const id of ids) await store.index.add(id);
  });
  after(async () => {
    await stack?.stop();
    await nats?.cleanup();
  });

  test(`--limit beyond the api's page maximum (${PAGE_MAX}) lists that many jobs, newest first, in pages the api accepts`, async () => {
    const limit = PAGE_MAX + 100;
    const run = await brocapi(["jobs", "--limit", String(limit)], { BROCAPI_URL: stack.url });
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    const listed = run.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
    assert.deepEqual(listed, ids.slice(-limit).reverse());
  });

  test("--tag and --state find a job older than one request examines: short and empty pages are followed to their cursor's end", async () => {
    // What the api answers: the first filtered page is empty, and says where to go on.
    const first = (await (await fetch(`${stack.url}/jobs?tag=rare`)).json()) as JobList;
    assert.deepEqual(first.jobs, []);
    assert.notEqual(first.next_cursor, null, "an empty page with a cursor");
    for (const filter of [["--tag", "rare"], ["--state", "failed"]]) {
      const run = await brocapi(["jobs", ...filter], { BROCAPI_URL: stack.url });
      assert.equal(run.stderr, "");
      assert.equal(run.code, 0);
      assert.deepEqual(run.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]), [ids[0]], filter.join(" "));
    }
    // Nothing matches: every page is followed to the end of the index, then nothing is listed.
    const none = await brocapi(["jobs", "--tag", "no-such-tag"], { BROCAPI_URL: stack.url });
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
  });
});
