// Checks the Zeek test double against real Zeek 8.2.2 recordings: the ones
// beside the repo (../shared/zeek) when present, otherwise the figures copied
// from them into test/fixtures/traces/recorded.json.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { RECORDINGS, SKIP_NO_RECORDINGS, haveRecordings } from "./helpers/recordings.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ZEEK = path.join(ROOT, "test/zeek-double/zeek");
const TRACES = path.join(ROOT, "test/fixtures/traces");

type Mode = "tsv" | "json";
const MODES: readonly Mode[] = ["tsv", "json"];
const JSON_REDEF = "LogAscii::use_json=T";
/** Logs the double writes; real Zeek writes more (http, files, ssl, ...). */
const EMULATED = new Set([
  "conn",
  "dns",
  "notice",
  "capture_loss",
  "stats",
  "telemetry",
  "packet_filter",
  "loaded_scripts",
]);
/** Logs whose record counts depend on Zeek internals rather than on the traffic. */
const INTERNAL = new Set(["telemetry"]);

interface RecordedTrace {
  file: string;
  tsv: Record<string, number>;
  json: Record<string, number>;
  noLocal?: Record<string, number>;
  rows: Record<Mode, Record<string, string[]>>;
}
interface RecordedBadRun {
  exitCode: number;
  stderr: string;
  fileLines: Record<string, number>;
}
interface Recorded {
  source: string;
  traces: Record<string, RecordedTrace>;
  headers: Record<string, { fields: string; types: string }>;
  bad: Record<string, { recordedPath: string } & Record<Mode, RecordedBadRun>>;
}

// ---------------------------------------------------------------- helpers

const tempDirs: string[] = [];
after(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zeek-double-"));
  tempDirs.push(dir);
  return dir;
}

interface ZeekResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** File piped into stdin. */
  stdin?: string;
  env?: Record<string, string>;
}

function runZeek(args: readonly string[], cwd: string, options: RunOptions = {}): Promise<ZeekResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    const child = spawn(ZEEK, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (options.stdin === undefined) child.stdin.end();
    else fs.createReadStream(options.stdin).pipe(child.stdin);
  });
}

/** The product's invocation: `zeek -C -r <capture> local [LogAscii::use_json=T]`. */
function zeekArgs(capture: string, mode: Mode): string[] {
  return ["-C", "-r", capture, "local", ...(mode === "json" ? [JSON_REDEF] : [])];
}

function fileLines(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

function recordLines(file: string, mode: Mode): string[] {
  const lines = fileLines(file);
  return mode === "tsv" ? lines.filter((l) => !l.startsWith("#")) : lines;
}

/** Record counts of every *.log in a directory. */
function logCounts(dir: string, mode: Mode): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".log")).sort()) {
    counts[f.slice(0, -4)] = recordLines(path.join(dir, f), mode).length;
  }
  return counts;
}

/** conn/dns records without the (random) uid, sorted: comparable across runs. */
function rowsWithoutUid(file: string, mode: Mode): string[] {
  return recordLines(file, mode)
    .map((l) => {
      if (mode === "json") return l.replace(/"uid":"C[0-9A-Za-z]+",/, "");
      const cols = l.split("\t");
      cols.splice(1, 1);
      return cols.join("\t");
    })
    .sort();
}

function header(file: string, name: "fields" | "types"): string | undefined {
  return fileLines(file)
    .find((l) => l.startsWith(`#${name}\t`))
    ?.slice(name.length + 2);
}

function readFixture(): Recorded {
  return JSON.parse(fs.readFileSync(path.join(TRACES, "recorded.json"), "utf8")) as Recorded;
}

/** Builds the recorded.json structure straight from the recordings. */
function fromShared(): Recorded {
  const fixture = readFixture();
  const traces: Record<string, RecordedTrace> = {};
  for (const [name, t] of Object.entries(fixture.traces)) {
    const rows = { tsv: {}, json: {} } as RecordedTrace["rows"];
    for (const mode of MODES) {
      for (const log of ["conn", "dns"]) {
        const file = path.join(RECORDINGS, mode, name, `${log}.log`);
        if (fs.existsSync(file)) rows[mode][log] = rowsWithoutUid(file, mode);
      }
    }
    traces[name] = {
      file: t.file,
      tsv: logCounts(path.join(RECORDINGS, "tsv", name), "tsv"),
      json: logCounts(path.join(RECORDINGS, "json", name), "json"),
      ...(t.noLocal ? { noLocal: logCounts(path.join(RECORDINGS, "extra", `${name}-no-local`), "tsv") } : {}),
      rows,
    };
  }
  const headers: Recorded["headers"] = {};
  for (const log of Object.keys(fixture.headers)) {
    const candidates = ["dns53", "http-get"].map((name) => path.join(RECORDINGS, "tsv", name, `${log}.log`));
    const file = candidates.find((f) => fs.existsSync(f)) ?? "";
    headers[log] = { fields: header(file, "fields") ?? "", types: header(file, "types") ?? "" };
  }
  const bad: Recorded["bad"] = {};
  for (const name of Object.keys(fixture.bad)) {
    const runs = MODES.map((mode) => {
      const result = path.join(RECORDINGS, "meta/bad", mode, name, "result.json");
      const meta = JSON.parse(fs.readFileSync(result, "utf8")) as {
        cmd: string[];
        exit_code: number;
        stderr: string;
        files: Record<string, { lines: number }>;
      };
      const lines = Object.fromEntries(Object.entries(meta.files).map(([f, v]) => [f.slice(0, -4), v.lines]).sort());
      const run = { exitCode: meta.exit_code, stderr: meta.stderr, fileLines: lines };
      return { recordedPath: meta.cmd[3] ?? "", run };
    });
    bad[name] = { recordedPath: runs[0]?.recordedPath ?? "", tsv: runs[0]!.run, json: runs[1]!.run };
  }
  return { source: fixture.source, traces, headers, bad };
}

const RECORDED: Recorded = haveRecordings ? fromShared() : readFixture();

function expectedFiles(recorded: Record<string, number>): string[] {
  return Object.keys(recorded).filter((log) => EMULATED.has(log)).sort();
}

function assertHeaders(dir: string): void {
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".log"))) {
    const log = f.slice(0, -4);
    const lines = fileLines(path.join(dir, f));
    const fixed = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-"];
    assert.deepEqual(lines.slice(0, 5), [...fixed, `#path\t${log}`], f);
    assert.match(lines[5] ?? "", /^#open\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/, f);
    assert.equal(lines[6], `#fields\t${RECORDED.headers[log]?.fields}`, f);
    assert.equal(lines[7], `#types\t${RECORDED.headers[log]?.types}`, f);
    assert.match(lines.at(-1) ?? "", /^#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/, f);
  }
}

// ------------------------------------------------------------------ tests

describe("command line", () => {
  it("--version and -v print the version", async () => {
    for (const flag of ["--version", "-v"]) {
      const r = await runZeek([flag], tempDir());
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "zeek version 8.2.2\n");
      assert.equal(r.stderr, "");
    }
  });

  it("-h prints the recorded help text", async (t) => {
    const r = await runZeek(["-h"], tempDir());
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^zeek version 8\.2\.2\nusage: /);
    if (!haveRecordings) return t.skip(`exact text not compared: ${SKIP_NO_RECORDINGS}`);
    assert.equal(r.stdout, fs.readFileSync(path.join(RECORDINGS, "meta/cli/help/stdout"), "utf8"));
  });

  it("rejects unknown options like getopt, with the usage text and exit 1", async () => {
    const long = await runZeek(["--bogus", "-r", "x.pcap"], tempDir());
    assert.equal(long.code, 1);
    assert.equal(long.stderr, "zeek: unrecognized option '--bogus'\n");
    assert.match(long.stdout, /^zeek version 8\.2\.2\nusage: /);
    const short = await runZeek(["-Z"], tempDir());
    assert.equal(short.code, 1);
    assert.equal(short.stderr, "zeek: invalid option -- 'Z'\n");
    const missing = await runZeek(["-C", "-r"], tempDir());
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "zeek: option requires an argument -- 'r'\n");
  });
});

describe("real traces", () => {
  for (const [name, trace] of Object.entries(RECORDED.traces)) {
    for (const mode of MODES) {
      it(`${name} (${mode}) writes the recorded logs and records`, async () => {
        const dir = tempDir();
        const r = await runZeek(zeekArgs(path.join(TRACES, trace.file), mode), dir);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        const counts = logCounts(dir, mode);
        assert.deepEqual(Object.keys(counts).sort(), expectedFiles(trace[mode]));
        for (const [log, n] of Object.entries(counts)) {
          if (INTERNAL.has(log)) assert.ok(n > 0, log);
          else assert.equal(n, trace[mode][log], `${log} records`);
        }
        for (const [log, rows] of Object.entries(trace.rows[mode])) {
          assert.deepEqual(rowsWithoutUid(path.join(dir, `${log}.log`), mode), rows, `${log} records other than uid`);
        }
        if (mode === "tsv") assertHeaders(dir);
        else for (const f of fs.readdirSync(dir)) for (const line of fileLines(path.join(dir, f))) JSON.parse(line);
      });
    }
  }

  it("without `local` writes only conn and packet_filter (plus protocol logs)", async () => {
    const trace = RECORDED.traces["http-get"];
    assert.ok(trace?.noLocal);
    const dir = tempDir();
    const r = await runZeek(["-C", "-r", path.join(TRACES, trace.file)], dir);
    assert.equal(r.code, 0);
    assert.deepEqual(Object.keys(logCounts(dir, "tsv")), expectedFiles(trace.noLocal));
  });

  it("follows Zeek JSON conventions", async () => {
    const dir = tempDir();
    await runZeek(zeekArgs(path.join(TRACES, "http-get.pcap"), "json"), dir);
    const [line = ""] = fileLines(path.join(dir, "conn.log"));
    const conn = JSON.parse(line) as Record<string, unknown>;
    assert.equal(typeof conn["ts"], "number");
    assert.match(String(conn["uid"]), /^C[0-9A-Za-z]{14,18}$/);
    assert.equal(conn["id.orig_p"], 59856);
    assert.equal(conn["local_orig"], false);
    assert.ok(!("tunnel_parents" in conn), "unset fields are omitted");
    // Intervals at full double precision, doubles keep ".0", empty containers are [].
    assert.ok(line.includes('"duration":0.21148395538330078'), line);
    const loss = fileLines(path.join(dir, "capture_loss.log"))[0] ?? "";
    assert.ok(loss.includes('"ts_delta":0.21162796020507813') && loss.includes('"percent_lost":0.0'), loss);
    const notices = tempDir();
    await runZeek(zeekArgs(path.join(TRACES, "dns53.pcap"), "json"), notices);
    assert.ok(fileLines(path.join(notices, "notice.log"))[0]?.includes('"email_dest":[],"suppress_for":3600.0'));
  });

  it("reads the capture from stdin with -r -", async () => {
    const dir = tempDir();
    const r = await runZeek(["-C", "-r", "-", "local"], dir, { stdin: path.join(TRACES, "wikipedia.pcap") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(recordLines(path.join(dir, "conn.log"), "tsv").length, RECORDED.traces["wikipedia"]?.tsv["conn"]);
    assert.equal(recordLines(path.join(dir, "dns.log"), "tsv").length, RECORDED.traces["wikipedia"]?.tsv["dns"]);
  });

  it("matches conn and dns record counts on every recorded trace", async (t) => {
    if (!haveRecordings) return t.skip(SKIP_NO_RECORDINGS);
    for (const file of fs.readdirSync(path.join(RECORDINGS, "traces")).filter((f) => /\.pcap(ng)?$/.test(f))) {
      const name = file.replace(/\.pcap(ng)?$/, "");
      const dir = tempDir();
      const r = await runZeek(zeekArgs(path.join(RECORDINGS, "traces", file), "tsv"), dir);
      assert.equal(r.code, 0, `${file}: ${r.stderr}`);
      for (const log of ["conn", "dns", "capture_loss", "stats"]) {
        const real = path.join(RECORDINGS, "tsv", name, `${log}.log`);
        const mine = path.join(dir, `${log}.log`);
        assert.equal(fs.existsSync(mine), fs.existsSync(real), `${file}: ${log}.log present`);
        if (!fs.existsSync(real)) continue;
        assert.equal(recordLines(mine, "tsv").length, recordLines(real, "tsv").length, `${file}: ${log}`);
      }
    }
  });

  it("fixture constants match the recordings", (t) => {
    if (!haveRecordings) return t.skip(SKIP_NO_RECORDINGS);
    assert.deepEqual(readFixture(), RECORDED);
  });
});

/** A buffer written in one byte order. */
class Bytes {
  readonly buf: Buffer;

  constructor(
    size: number,
    private readonly bigEndian: boolean,
  ) {
    this.buf = Buffer.alloc(size);
  }

  u16(off: number, v: number): this {
    if (this.bigEndian) this.buf.writeUInt16BE(v, off);
    else this.buf.writeUInt16LE(v, off);
    return this;
  }

  u32(off: number, v: number): this {
    if (this.bigEndian) this.buf.writeUInt32BE(v, off);
    else this.buf.writeUInt32LE(v, off);
    return this;
  }
}

/** The records of a little-endian microsecond pcap: timestamp, lengths and data. */
function* pcapRecords(src: Buffer): Generator<{ sec: number; usec: number; wire: number; data: Buffer }> {
  for (let off = 24; off < src.length; off += 16 + src.readUInt32LE(off + 8)) {
    const caplen = src.readUInt32LE(off + 8);
    const data = src.subarray(off + 16, off + 16 + caplen);
    yield { sec: src.readUInt32LE(off), usec: src.readUInt32LE(off + 4), wire: src.readUInt32LE(off + 12), data };
  }
}

/** Rewrites a little-endian microsecond pcap with another byte order and/or nanosecond stamps. */
function pcapVariant(src: Buffer, bigEndian: boolean, nanos: boolean): Buffer {
  const header = new Bytes(24, bigEndian).u32(0, nanos ? 0xa1b23c4d : 0xa1b2c3d4).u16(4, 2).u16(6, 4);
  header.u32(16, src.readUInt32LE(16)).u32(20, src.readUInt32LE(20));
  const records = [...pcapRecords(src)].map((r) => {
    const h = new Bytes(16, bigEndian).u32(0, r.sec).u32(4, nanos ? r.usec * 1000 : r.usec);
    return [h.u32(8, r.data.length).u32(12, r.wire).buf, r.data];
  });
  return Buffer.concat([header.buf, ...records.flat()]);
}

/** Converts a pcap to pcapng with two interfaces (the second in nanoseconds), packets alternating. */
function toPcapng(src: Buffer, bigEndian: boolean): Buffer {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const length = 12 + padded.length;
    const head = new Bytes(8, bigEndian).u32(0, type).u32(4, length);
    return Buffer.concat([head.buf, padded, new Bytes(4, bigEndian).u32(0, length).buf]);
  };
  const linkType = src.readUInt32LE(20);
  const section = new Bytes(16, bigEndian).u32(0, 0x1a2b3c4d).u16(4, 1);
  section.buf.fill(0xff, 8);
  // The second interface carries if_tsresol = 9 (nanoseconds), then opt_endofopt.
  const ns = new Bytes(20, bigEndian).u16(0, linkType).u32(4, 65535).u16(8, 9).u16(10, 1);
  ns.buf[12] = 9;
  const blocks = [
    block(0x0a0d0d0a, section.buf),
    block(1, new Bytes(8, bigEndian).u16(0, linkType).u32(4, 65535).buf),
    block(1, ns.buf),
  ];
  [...pcapRecords(src)].forEach((r, i) => {
    const iface = i % 2;
    const perSecond = iface ? 1_000_000_000n : 1_000_000n;
    const ticks = BigInt(r.sec) * perSecond + (BigInt(r.usec) * perSecond) / 1_000_000n;
    const epb = new Bytes(20, bigEndian).u32(0, iface).u32(4, Number(ticks >> 32n)).u32(8, Number(ticks & 0xffffffffn));
    blocks.push(block(6, Buffer.concat([epb.u32(12, r.data.length).u32(16, r.wire).buf, r.data])));
  });
  return Buffer.concat(blocks);
}

describe("capture formats", () => {
  async function connRows(capture: Buffer): Promise<string[]> {
    const dir = tempDir();
    const file = path.join(dir, "input.cap");
    fs.writeFileSync(file, capture);
    const r = await runZeek(["-C", "-r", file], dir);
    assert.equal(r.code, 0, r.stderr);
    return rowsWithoutUid(path.join(dir, "conn.log"), "tsv");
  }

  it("reads all four classic pcap magic variants and pcapng in both byte orders alike", async () => {
    const original = fs.readFileSync(path.join(TRACES, "http-get.pcap"));
    const expected = await connRows(original);
    assert.equal(expected.length, 1);
    for (const bigEndian of [false, true]) {
      for (const nanos of [false, true]) {
        const variant = pcapVariant(original, bigEndian, nanos);
        assert.deepEqual(await connRows(variant), expected, `pcap be=${bigEndian} ns=${nanos}`);
      }
      assert.deepEqual(await connRows(toPcapng(original, bigEndian)), expected, `pcapng be=${bigEndian}`);
    }
  });
});

describe("bad input", () => {
  const fixtures: Record<string, string> = {
    "text-renamed": "bad/text-renamed.pcap",
    "trunc-100bytes": "bad/trunc-100bytes.pcap",
    "cut-midpacket": "bad/cut-midpacket.pcap",
    "zero-bytes": "bad/zero-bytes.pcap",
    nonexistent: "bad/does-not-exist.pcap",
  };
  for (const [name, recorded] of Object.entries(RECORDED.bad)) {
    for (const mode of MODES) {
      it(`${name} (${mode}): exit code, exact stderr and leftover files as recorded`, async () => {
        const work = tempDir();
        // Run next to a copy of the fixtures so the path on the command line reads as recorded.
        fs.cpSync(path.join(TRACES, "bad"), path.join(work, "traces/bad"), { recursive: true });
        const capture = `traces/${fixtures[name]}`;
        assert.equal(capture, recorded.recordedPath);
        const r = await runZeek(zeekArgs(capture, mode), work);
        assert.equal(r.code, recorded[mode].exitCode);
        assert.equal(r.stderr, recorded[mode].stderr);
        const left = Object.fromEntries(
          fs
            .readdirSync(work)
            .filter((f) => f.endsWith(".log"))
            .sort()
            .map((f) => [f.slice(0, -4), fileLines(path.join(work, f)).length]),
        );
        assert.deepEqual(left, recorded[mode].fileLines);
      });
    }
  }

  it("refuses a gzip-compressed capture as an unknown file format", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "x.pcap.gz"), gzipSync(fs.readFileSync(path.join(TRACES, "http-get.pcap"))));
    const r = await runZeek(["-C", "-r", "x.pcap.gz", "local"], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "fatal error: problem with trace file x.pcap.gz (unknown file format)\n");
    assert.deepEqual(fs.readdirSync(dir), ["x.pcap.gz"]);
  });
});

describe("synthetic captures", () => {
  it("yields one conn line per flow and the documented dns lines, in both formats", async () => {
    const dir = tempDir();
    const capture = path.join(dir, "synthetic.pcap");
    const info = await writeSyntheticPcap(capture, { flows: 500, packetsPerFlow: 7, dnsEvery: 5, seed: 3 });
    assert.equal(info.flows, 500);
    assert.equal(info.packets, 3500);
    assert.equal(info.bytes, fs.statSync(capture).size);
    assert.equal(info.dnsTransactions, 100 * 4);
    for (const mode of MODES) {
      const out = path.join(dir, mode);
      fs.mkdirSync(out);
      const r = await runZeek(zeekArgs(capture, mode), out);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(recordLines(path.join(out, "conn.log"), mode).length, info.flows);
      assert.equal(recordLines(path.join(out, "dns.log"), mode).length, info.dnsTransactions);
    }
  });

  it("is deterministic for a seed", async () => {
    const dir = tempDir();
    await writeSyntheticPcap(path.join(dir, "a.pcap"), { flows: 50, seed: 9, dnsEvery: 3 });
    await writeSyntheticPcap(path.join(dir, "b.pcap"), { flows: 50, seed: 9, dnsEvery: 3 });
    assert.ok(fs.readFileSync(path.join(dir, "a.pcap")).equals(fs.readFileSync(path.join(dir, "b.pcap"))));
  });

  it("processes 100,000 packets in a few seconds", async () => {
    const dir = tempDir();
    const capture = path.join(dir, "big.pcap");
    const info = await writeSyntheticPcap(capture, { flows: 12_500, packetsPerFlow: 8, dnsEvery: 10 });
    assert.equal(info.packets, 100_000);
    const started = Date.now();
    const r = await runZeek(zeekArgs(capture, "tsv"), dir);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(recordLines(path.join(dir, "conn.log"), "tsv").length, info.flows);
    assert.ok(seconds < 5, `took ${seconds} s`);
  });

  it("a capture cut mid-packet fails after the good packets and leaves no conn.log", async () => {
    const dir = tempDir();
    const info = await writeTruncatedPcap(path.join(dir, "cut.pcap"), { flows: 20, dnsEvery: 4 });
    assert.equal(info.bytes, fs.statSync(path.join(dir, "cut.pcap")).size);
    for (const mode of MODES) {
      const out = path.join(dir, mode);
      fs.mkdirSync(out);
      const r = await runZeek(zeekArgs("../cut.pcap", mode), out);
      assert.equal(r.code, 1);
      const prefix = mode === "json" ? "fatal error in <params>, line 1:" : "fatal error:";
      const message = `failed to read a packet from ../cut.pcap: ${info.readError}`;
      assert.equal(r.stderr, `${info.lastPacketTime} ${prefix} ${message}\n`);
      assert.ok(!fs.existsSync(path.join(out, "conn.log")));
      assert.ok(!fs.existsSync(path.join(out, "dns.log")));
    }
  });
});

describe("test hooks", () => {
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(condition(), "condition not reached in time");
  }

  it("ZEEK_DOUBLE_DELAY_MS holds the final writes so a run can be killed mid-way", async () => {
    const dir = tempDir();
    const env = { ...process.env, ZEEK_DOUBLE_DELAY_MS: "5000" };
    const child = spawn(ZEEK, zeekArgs(path.join(TRACES, "http-get.pcap"), "tsv"), { cwd: dir, env });
    await until(() => fs.existsSync(path.join(dir, "stats.log")));
    child.kill("SIGTERM");
    const [, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, "SIGTERM");
    assert.ok(!fs.existsSync(path.join(dir, "conn.log")));
    assert.ok(!fileLines(path.join(dir, "stats.log")).some((l) => l.startsWith("#close")));
  });

  it("ZEEK_DOUBLE_DELAY_MS delays a normal run", async () => {
    const started = Date.now();
    const env = { ZEEK_DOUBLE_DELAY_MS: "400" };
    const r = await runZeek(zeekArgs(path.join(TRACES, "dns53.pcap"), "tsv"), tempDir(), { env });
    assert.equal(r.code, 0);
    assert.ok(Date.now() - started >= 400);
  });

  it("ZEEK_DOUBLE_HANG=1 never exits on its own", async () => {
    const dir = tempDir();
    const env = { ...process.env, ZEEK_DOUBLE_HANG: "1" };
    const child = spawn(ZEEK, zeekArgs(path.join(TRACES, "dns53.pcap"), "tsv"), { cwd: dir, env });
    await until(() => fs.existsSync(path.join(dir, "stats.log")));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(child.exitCode, null);
    child.kill("SIGKILL");
    const [, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, "SIGKILL");
  });
});
