// Holds the Zeek test double to real Zeek 8.2.2: the recordings in test/fixtures/zeek
// (14 public traces, TSV and JSON, plus malformed inputs). Every field of every record the
// double writes is compared with what Zeek wrote, row by row, except uids (random per run),
// wall-clock times and the figures README.md lists as Zeek's own (which the double leaves unset).

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
import { RECORDINGS, TRACES } from "./helpers/recordings.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ZEEK = path.join(ROOT, "test/zeek-double/zeek");

type Mode = "tsv" | "json";
const MODES: readonly Mode[] = ["tsv", "json"];
const JSON_REDEF = "LogAscii::use_json=T";
/** Logs the double writes; real Zeek writes more (http, files, ssl, telemetry, ...). */
const EMULATED = new Set(["conn", "dns", "notice", "capture_loss", "stats", "packet_filter", "loaded_scripts"]);
/** The one notice the double raises; Zeek's other notices come from analyzers it lacks. */
const EMULATED_NOTES = new Set(["CaptureLoss::Too_Little_Traffic"]);
/** Not compared: random per run, or wall-clock time. */
const NOT_COMPARED: Readonly<Record<string, readonly string[]>> = { "*": ["uid"], packet_filter: ["ts"] };
/** Zeek's own figures (memory, events, timers, its DNS manager, files, reassembly): the double leaves them unset. */
const ZEEK_INTERNAL: Readonly<Record<string, readonly string[]>> = {
  stats: [
    "mem", "events_proc", "events_queued", "timers", "active_timers", "files", "active_files",
    "dns_requests", "active_dns_requests", "reassem_tcp_size", "reassem_file_size", "reassem_frag_size", "reassem_unknown_size",
  ],
};
/** Logs whose rows of one time Zeek writes in hash order (known_hosts: the set of a connection's two hosts). */
const UNORDERED = new Set(["known_hosts"]);
/** Logs whose last rows are the connections still open when the capture ended. */
const FLUSHED_AT_END = new Set(["conn", "dns"]);

const TRACE_FILES = fs.readdirSync(TRACES).filter((f) => /\.pcap(ng)?$/.test(f)).sort();

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

function logNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => f.slice(0, -4)).sort();
}

/** Splits one flat Zeek JSON record into [key, raw value text] pairs, keeping Zeek's number formatting. */
function jsonCells(line: string): [string, string][] {
  const cells: [string, string][] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
    else if ((c === "," && depth === 0) || i === line.length - 1) {
      const cell = line.slice(start, i);
      const colon = cell.indexOf('":');
      cells.push([JSON.parse(cell.slice(0, colon + 1)) as string, cell.slice(colon + 2)]);
      start = i + 1;
    }
  }
  return cells;
}

/** One record as [field, value] pairs; TSV fields come from the file's #fields line. */
function cells(line: string, mode: Mode, fields: readonly string[]): [string, string][] {
  if (mode === "json") return jsonCells(line);
  return line.split("\t").map((v, i) => [fields[i] ?? `#${i}`, v]);
}

function isUnset(value: string | undefined, mode: Mode): boolean {
  return mode === "json" ? value === undefined : value === "-";
}

/**
 * A log's records in comparable form: fields Zeek fills at random or from the wall clock dropped;
 * Zeek-internal fields dropped after checking that `strict` (the double's output) leaves them unset.
 */
function comparable(file: string, log: string, mode: Mode, strict: boolean): string[] {
  const fields = fileLines(file).find((l) => l.startsWith("#fields\t"))?.split("\t").slice(1) ?? [];
  const dropped = new Set([...(NOT_COMPARED["*"] ?? []), ...(NOT_COMPARED[log] ?? [])]);
  const internal = ZEEK_INTERNAL[log] ?? [];
  return recordLines(file, mode).map((line) => {
    const row = cells(line, mode, fields);
    if (strict) {
      const values = new Map(row);
      for (const f of internal) assert.ok(isUnset(values.get(f), mode), `${log}.${f} is Zeek-internal and must stay unset: ${line}`);
    }
    return row
      .filter(([f]) => !dropped.has(f) && !internal.includes(f))
      .map(([f, v]) => `${f}=${v}`)
      .join(" ");
  });
}

/** The rows of the recorded log the double is expected to write (notice.log: only the notes it raises). */
function expectedRows(file: string, log: string, mode: Mode): string[] {
  const rows = comparable(file, log, mode, false);
  if (log !== "notice") return rows;
  return rows.filter((r) => [...EMULATED_NOTES].some((note) => r.includes(` note=${mode === "json" ? `"${note}"` : note} `)));
}

/** TSV header lines other than the wall-clock #open. */
function headerLines(file: string): string[] {
  return fileLines(file).filter((l) => l.startsWith("#") && !/^#(open|close)\t/.test(l));
}

/**
 * Compares one log written by the double with the recording: every row in Zeek's order, except
 * the rows of connections still open at the end of the capture, which Zeek writes in hash-table
 * order (it differs between its own TSV and JSON runs) and are compared as a set.
 */
function assertSameLog(mine: string, real: string, log: string, mode: Mode, openAtEnd: number | undefined): void {
  const got = comparable(mine, log, mode, true);
  const want = expectedRows(real, log, mode);
  const ordered = UNORDERED.has(log) ? 0 : FLUSHED_AT_END.has(log) && openAtEnd !== undefined ? openAtEnd : got.length;
  assert.deepEqual(got.slice(0, ordered), want.slice(0, ordered), `${log}.log rows written during the capture, in order`);
  assert.deepEqual(got.slice(ordered).sort(), want.slice(ordered).sort(), `${log}.log rows of connections open at the end`);
  if (mode === "tsv") {
    assert.deepEqual(headerLines(mine), headerLines(real), `${log}.log header`);
    assert.match(fileLines(mine)[5] ?? "", /^#open\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/, `${log}.log #open`);
    assert.match(fileLines(mine).at(-1) ?? "", /^#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/, `${log}.log #close`);
  }
}

/** The logs the double should have written, given what real Zeek wrote in `dir`. */
function expectedLogs(dir: string, mode: Mode): string[] {
  return logNames(dir).filter(
    (log) => EMULATED.has(log) && (log !== "notice" || expectedRows(path.join(dir, "notice.log"), log, mode).length > 0),
  );
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

  it("-h prints the recorded help text", async () => {
    const r = await runZeek(["-h"], tempDir());
    assert.equal(r.code, 0);
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

describe("real traces: every field as Zeek 8.2.2 wrote it", () => {
  it("covers all 14 recorded traces", () => assert.equal(TRACE_FILES.length, 14));

  for (const file of TRACE_FILES) {
    const name = file.replace(/\.pcap(ng)?$/, "");
    for (const mode of MODES) {
      it(`${name} (${mode})`, async () => {
        const dir = tempDir();
        const ends = path.join(dir, "end-counts.json");
        const r = await runZeek(zeekArgs(path.join(TRACES, file), mode), dir, { env: { ZEEK_DOUBLE_END_COUNTS: ends } });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        const real = path.join(RECORDINGS, mode, name);
        assert.deepEqual(logNames(dir), expectedLogs(real, mode), "log files written");
        const atEnd = JSON.parse(fs.readFileSync(ends, "utf8")) as Record<string, number>;
        for (const log of logNames(dir)) {
          assertSameLog(path.join(dir, `${log}.log`), path.join(real, `${log}.log`), log, mode, atEnd[log] ?? 0);
        }
      });
    }
  }

  it("known_hosts.log, with the known-hosts script named, as Zeek's `local` wrote it on every trace", async () => {
    let compared = 0;
    for (const file of TRACE_FILES) {
      const name = file.replace(/\.pcap(ng)?$/, "");
      for (const mode of MODES) {
        const dir = tempDir();
        const args = [...zeekArgs(path.join(TRACES, file), mode), "protocols/conn/known-hosts"];
        const r = await runZeek(args, dir);
        assert.equal(r.code, 0, r.stderr);
        const real = path.join(RECORDINGS, mode, name, "known_hosts.log");
        assert.equal(fs.existsSync(path.join(dir, "known_hosts.log")), fs.existsSync(real), `${name} (${mode}): known_hosts.log written as by Zeek`);
        if (!fs.existsSync(real)) continue;
        assertSameLog(path.join(dir, "known_hosts.log"), real, "known_hosts", mode, 0);
        compared++;
      }
    }
    assert.equal(compared, 12, "six traces with known_hosts, TSV and JSON");
  });

  it("without `local` writes only conn and packet_filter (plus protocol logs)", async () => {
    const dir = tempDir();
    const r = await runZeek(["-C", "-r", path.join(TRACES, "http-get.pcap")], dir);
    assert.equal(r.code, 0);
    const real = path.join(RECORDINGS, "extra/http-get-no-local");
    assert.deepEqual(logNames(dir), expectedLogs(real, "tsv"));
    for (const log of logNames(dir)) assertSameLog(path.join(dir, `${log}.log`), path.join(real, `${log}.log`), log, "tsv", 0);
  });

  it("reads the capture from stdin with -r - as from the file", async () => {
    const dir = tempDir();
    const r = await runZeek(["-C", "-r", "-", "local"], dir, { stdin: path.join(TRACES, "wikipedia.pcap") });
    assert.equal(r.code, 0, r.stderr);
    for (const log of ["conn", "dns"]) {
      const real = path.join(RECORDINGS, "tsv/wikipedia", `${log}.log`);
      assert.deepEqual(comparable(path.join(dir, `${log}.log`), log, "tsv", true).sort(), expectedRows(real, log, "tsv").sort());
    }
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
    return comparable(path.join(dir, "conn.log"), "conn", "tsv", true);
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
  interface BadRun {
    cmd: string[];
    exit_code: number;
    stderr: string;
    files: Record<string, { lines: number }>;
  }
  for (const name of fs.readdirSync(path.join(RECORDINGS, "meta/bad/tsv")).sort()) {
    for (const mode of MODES) {
      it(`${name} (${mode}): exit code, exact stderr and leftover files as recorded`, async () => {
        const recorded = JSON.parse(fs.readFileSync(path.join(RECORDINGS, "meta/bad", mode, name, "result.json"), "utf8")) as BadRun;
        const work = tempDir();
        // Run next to a copy of the captures so the path on the command line reads as recorded.
        fs.cpSync(path.join(TRACES, "bad"), path.join(work, "traces/bad"), { recursive: true });
        const capture = recorded.cmd[3] ?? "";
        assert.match(capture, /^traces\/bad\//);
        const r = await runZeek(zeekArgs(capture, mode), work);
        assert.equal(r.code, recorded.exit_code);
        assert.equal(r.stderr, recorded.stderr);
        const left = Object.fromEntries(logNames(work).map((log) => [log, fileLines(path.join(work, `${log}.log`)).length]));
        const expected = Object.entries(recorded.files)
          .map(([f, v]) => [f.slice(0, -4), v.lines] as const)
          .filter(([log]) => EMULATED.has(log))
          .sort(([a], [b]) => a.localeCompare(b));
        assert.deepEqual(left, Object.fromEntries(expected));
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

  it("ZEEK_DOUBLE_DELAY_MS holds a normal run until the delay is over, then completes it", async () => {
    const dir = tempDir();
    const env = { ...process.env, ZEEK_DOUBLE_DELAY_MS: "1500" };
    const child = spawn(ZEEK, zeekArgs(path.join(TRACES, "dns53.pcap"), "tsv"), { cwd: dir, env });
    const closed = once(child, "close");
    await until(() => fs.existsSync(path.join(dir, "stats.log")));
    assert.ok(!fs.existsSync(path.join(dir, "conn.log")), "conn.log is written only after the delay");
    const [code] = (await closed) as [number | null];
    assert.equal(code, 0);
    assert.equal(recordLines(path.join(dir, "conn.log"), "tsv").length, 1);
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
