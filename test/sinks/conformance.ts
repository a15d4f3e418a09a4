import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { startSinkInstance } from "../../services/shipper/shipper.js";
import type { SinkFactory, SinkFormat } from "../../services/shipper/sinks/sink.js";
import { loadConfig } from "../../shared/config/load.js";
import type { SinkInstance } from "../../shared/config/sink-instance.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { batchHeaders, batchMsgId, type LogBatch, type LogFormat } from "../../shared/messages/log-batch.js";
import { createContext, type ServiceContext } from "../../shared/service/context.js";
import { TsvToJson } from "../../shared/zeek/tsv-to-json.js";
import { startTestNats, type TestNats } from "../helpers/nats.js";

/** One line as the destination holds it. */
export interface ReceivedLine {
  /** The job, when the destination records it (a syslog message does not). */
  job?: string;
  log: string;
  /** The line: Zeek's TSV text, or the JSON object of a JSON line (Brocapi's envelope fields removed). */
  text: string;
}

/** Ways to make the destination unavailable, each undone by `restore`; a destination offers what it can. */
export interface Outages {
  /** Connections refused (the receiver is down). */
  refuse?(): Promise<void>;
  /** Connections accepted, nothing answered (a hung receiver). */
  stall?(): Promise<void>;
  /** Requests answered with errors (5xx, 429, a disk error). */
  fail?(): Promise<void>;
  restore(): Promise<void>;
}

/** A running destination the sink under test writes to. */
export interface Destination {
  /** Options for the sink's factory, pointing at this destination. */
  options: Record<string, unknown>;
  /** Everything received so far, in arrival order. */
  received(): Promise<ReceivedLine[]>;
  outages?: Outages;
  /** Whether the destination can tell a repeated line (ids, an index): then repeats are failures. */
  exactlyOnce: boolean;
  stop(): Promise<void>;
}

/** What the suite is run against: a sink factory and how to start a destination for it. */
export interface ConformanceTarget {
  name: string;
  factory: SinkFactory;
  /** Default: the factory's first format. */
  format?: SinkFormat;
  start(): Promise<Destination>;
  /** Scenario timeout, ms (default 30 s). */
  timeoutMs?: number;
}

const TSV_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "msg", "n", "tags"];
const TSV_TYPES = ["time", "string", "addr", "port", "string", "count", "set[string]"];
const TSV_HEADER = [
  "#separator \\x09",
  "#set_separator\t,",
  "#empty_field\t(empty)",
  "#unset_field\t-",
  "#path\tconformance",
  "#open\t2026-12-01-10-00-00",
  `#fields\t${TSV_FIELDS.join("\t")}`,
  `#types\t${TSV_TYPES.join("\t")}`,
];

/**
 * Message texts covering what Zeek may write into a line: its escapes of control characters, the
 * separator and backslashes (`\x09`, `\x0a`, `\\`), UTF-8 in several scripts and planes, text
 * that looks like markup or JSON, and a 64 KB value.
 */
export const AWKWARD_TEXTS = [
  "tab\\x09newline\\x0acr\\x0dnul\\x00esc\\x1bdel\\x7f",
  "backslash \\\\ and a \\\\x41 that is no escape",
  "UTF-8: Grüße, Ελληνικά, 日本語, עברית, 😀🦓",
  'quotes " and \' <b>&amp;</b> {"json":[1,2]} %s %n ${x}',
  "non-UTF-8 bytes as Zeek escapes them: \\xff\\xfe\\xc3",
  "x".repeat(64 * 1024),
];

interface Scenario {
  job: string;
  format: LogFormat;
  /** Per log type, per capture: the lines in order. */
  lines: Map<string, string[][]>;
}

const uuid = (): string => crypto.randomUUID();

/** A TSV line of the synthetic log: unique per (capture, log, index) so order and repeats are visible. */
function tsvLine(capture: number, log: string, i: number, text?: string): string {
  const msg = text ?? `line ${i} of ${log} in capture ${capture}`;
  return [`${1764583200 + i}.${String(capture).padStart(6, "0")}`, `C${log}${capture}x${i}`, "10.0.0.1", String(1024 + (i % 60000)), msg, String(i), i % 3 === 0 ? "(empty)" : "a,b"].join("\t");
}

const toJsonText = new TsvToJson(TSV_HEADER);

/** The scenario's lines as the destination should hold them, given the format the sink asked for. */
function expectedText(format: SinkFormat, scenario: Scenario, line: string): string {
  return format === "json" && scenario.format === "tsv" ? toJsonText.convert(line) : line;
}

function makeScenario(format: LogFormat, captures: number, perLog: Record<string, number>, texts?: string[]): Scenario {
  const lines = new Map<string, string[][]>();
  for (const [log, n] of Object.entries(perLog)) {
    const per: string[][] = [];
    for (let c = 0; c < captures; c++) {
      const tsv = Array.from({ length: n }, (_, i) => tsvLine(c, log, i, texts?.[i % texts.length]));
      per.push(format === "tsv" ? tsv : tsv.map((l) => toJsonText.convert(l)));
    }
    lines.set(log, per);
  }
  return { job: uuid(), format, lines };
}

/** Publishes a scenario as a worker would: batches of `batchLines`, captures interleaved batch by batch. */
async function publish(ctx: ServiceContext, s: Scenario, batchLines: number): Promise<void> {
  const js = jetstream(ctx.nc);
  for (const [log, captures] of s.lines) {
    const longest = Math.max(...captures.map((c) => c.length));
    for (let start = 0; start < longest; start += batchLines) {
      for (let c = 0; c < captures.length; c++) {
        const chunk = captures[c]!.slice(start, start + batchLines);
        if (chunk.length === 0) continue;
        const meta: Omit<LogBatch, "payload"> = {
          jobId: s.job,
          tag: "conformance",
          pcap: `capture-${c}.pcap`,
          pcapIndex: c,
          logType: log,
          format: s.format,
          zeekHeader: s.format === "tsv" ? TSV_HEADER : null,
          firstLine: start + 1,
          lineCount: chunk.length,
        };
        await js.publish(ctx.topology.names.logSubject(log, s.job), Buffer.from(chunk.join("\n")), { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
      }
    }
  }
}

const total = (s: Scenario): number => [...s.lines.values()].flat().reduce((n, c) => n + c.length, 0);

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The scenario's lines among what the destination received, per log, normalized (JSON by value:
 * key order and number spelling are the destination's business), in arrival order; and `stray`,
 * lines marked with the scenario's job that it never sent (damaged on the way). A destination
 * that does not record the job (syslog) has its lines matched by text, which is unique per line.
 */
function arrivedOf(received: ReceivedLine[], s: Scenario, format: SinkFormat): { byLog: Map<string, string[]>; expected: Map<string, string[][]>; stray: string[] } {
  const jsonOut = format === "json" || s.format === "json";
  const norm = (t: string): string | null => {
    if (!jsonOut) return t;
    try {
      return JSON.stringify(JSON.parse(t));
    } catch {
      return null;
    }
  };
  const expected = new Map([...s.lines].map(([log, captures]) => [log, captures.map((lines) => lines.map((l) => norm(expectedText(format, s, l))!))]));
  const byLog = new Map<string, string[]>();
  const stray: string[] = [];
  for (const [log, captures] of expected) {
    const wanted = new Set(captures.flat());
    const got: string[] = [];
    for (const r of received) {
      if (r.log !== log || (r.job !== undefined && r.job !== s.job)) continue;
      const t = norm(r.text);
      if (t !== null && wanted.has(t)) got.push(t);
      else if (r.job === s.job) stray.push(r.text);
    }
    byLog.set(log, got);
  }
  return { byLog, expected, stray };
}

/** Every line of the scenario arrived, in order within each (log, capture), and (where the destination can tell) none twice. */
function checkArrived(received: ReceivedLine[], s: Scenario, format: SinkFormat, exactlyOnce: boolean): void {
  const { byLog, expected, stray } = arrivedOf(received, s, format);
  assert.equal(stray.length, 0, `${stray.length} lines arrived that were never sent (damaged?): ${stray[0]?.slice(0, 200)}`);
  for (const [log, captures] of expected) {
    const got = byLog.get(log)!;
    const all = captures.flat();
    const distinct = new Set(got);
    assert.equal(distinct.size, all.length, `${log}: ${all.length - distinct.size} of ${all.length} lines missing`);
    if (exactlyOnce) assert.equal(got.length, all.length, `${log}: ${got.length - all.length} lines arrived twice`);
    for (const [c, want] of captures.entries()) {
      const wanted = new Set(want);
      // First arrival of each line, in arrival order: a repeat after an outage does not break order.
      const seen = new Set<string>();
      const firsts = got.filter((t) => wanted.has(t) && !seen.has(t) && seen.add(t));
      assert.deepEqual(firsts.map((t) => want.indexOf(t)), want.map((_, i) => i), `${log} capture ${c}: lines out of order`);
    }
  }
}

/** Distinct lines of the scenario that arrived so far. */
async function arrivedCount(dest: Destination, s: Scenario, format: SinkFormat): Promise<number> {
  const { byLog } = arrivedOf(await dest.received(), s, format);
  return [...byLog.values()].reduce((n, got) => n + new Set(got).size, 0);
}

/**
 * Registers the conformance tests for one sink with node:test. Each scenario runs the sink the way
 * the shipper does (a real nats-server, the LOGS stream, the sink's durable consumer, counts in
 * the job's sink record) against a fresh destination from `target.start()`:
 *
 * - many batches of two captures and three logs arrive, every line, in order within a log;
 * - a JSON job (Zeek's `LogAscii::use_json=T`) arrives as well;
 * - lines with every byte Zeek may write (escapes, UTF-8, a 64 KB line) arrive intact;
 * - each outage the destination offers (refused, stalled, errors) is retried in place: after
 *   recovery nothing is lost, and nothing doubled where the destination can tell, and the job
 *   shows the error meanwhile;
 * - `close()` flushes what was written;
 * - the job's count for the sink equals what arrived.
 */
export function sinkConformance(target: ConformanceTarget): void {
  const timeoutMs = target.timeoutMs ?? 30_000;
  const format = target.format ?? target.factory.formats[0];
  describe(`${target.name} sink conformance`, () => {
    let nats: TestNats;
    before(async () => {
      nats = await startTestNats();
    });
    after(async () => {
      await nats?.cleanup();
    });

    /** A context with its own prefix, the sink running on it, and the destination. */
    async function run(fn: (env: { ctx: ServiceContext; dest: Destination; name: string; stopSink(): Promise<void> }) => Promise<void>): Promise<void> {
      const dest = await target.start();
      const config = loadConfig({ NATS_URL: nats.url, BROCAPI_NATS_PREFIX: `c${Math.random().toString(36).slice(2, 10)}`, BROCAPI_SINKS: "none" });
      const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
      const ctx = await createContext(config, log, nats.url, "conformance");
      const name = "under-test";
      const parsed = target.factory.optionsSchema.safeParse(dest.options);
      assert.ok(parsed.success, `the destination's options pass the sink's schema: ${JSON.stringify(!parsed.success && parsed.error.issues)}`);
      const instance: SinkInstance = { name, kind: target.factory.kind, baseDir: process.cwd(), options: dest.options, logs: { exclude: [] }, tags: { exclude: [] }, format, start: "all", source: "conformance" };
      const running = await startSinkInstance(ctx, { instance, factory: target.factory, options: parsed.data, format });
      let stopped = false;
      const stopSink = async (): Promise<void> => {
        if (!stopped) await running.stop();
        stopped = true;
      };
      try {
        await fn({ ctx, dest, name, stopSink });
      } finally {
        await stopSink();
        await ctx.nc.drain();
        await dest.stop();
      }
    }

    async function deliverAndCheck(env: { ctx: ServiceContext; dest: Destination; name: string }, s: Scenario): Promise<void> {
      const want = total(s);
      await eventually(async () => (await arrivedCount(env.dest, s, format)) >= want, timeoutMs, () => `${want} lines at the destination`);
      checkArrived(await env.dest.received(), s, format, env.dest.exactlyOnce);
      // Counted on the job before the batches were acked: the record catches up within a flush.
      const store = new SinkProgressStore(env.ctx.topology.sinks);
      await eventually(async () => ((await store.ofJob(s.job))[env.name]?.lines ?? 0) >= want, 10_000, () => "the job's count");
      assert.equal((await store.ofJob(s.job))[env.name]!.lines, want, "the job's count equals the lines that arrived");
    }

    test("delivery: many batches, a JSON job, every byte Zeek may write; counted on the job", { timeout: timeoutMs * 3 }, (t) =>
      run(async (env) => {
        // Three jobs at once through one sink: they share its consumer as real jobs do.
        const batches = makeScenario("tsv", 2, { conn: 700, dns: 260, http: 45 });
        const json = makeScenario("json", 1, { conn: 300, dns: 50 });
        const awkward = makeScenario("tsv", 1, { weird: AWKWARD_TEXTS.length * 2 }, AWKWARD_TEXTS);
        await publish(env.ctx, batches, 37);
        await publish(env.ctx, json, 64);
        await publish(env.ctx, awkward, 4);
        await t.test("many batches of two captures and three logs: every line, in order within a log", () => deliverAndCheck(env, batches));
        await t.test("a JSON job (LogAscii::use_json=T)", () => deliverAndCheck(env, json));
        await t.test("escaped control characters, UTF-8, 64 KB lines arrive intact", () => deliverAndCheck(env, awkward));
      }),
    );

    for (const kind of ["refuse", "stall", "fail"] as const) {
      test(`outage (${kind === "refuse" ? "connections refused" : kind === "stall" ? "destination stalled" : "destination answering errors"}): retried in place, nothing lost after recovery`, { timeout: timeoutMs * 3 }, async (t) => {
        const probe = await target.start();
        const offered = Boolean(probe.outages?.[kind]);
        await probe.stop();
        if (!offered) {
          t.skip(`the ${target.name} destination has no way to ${kind}`);
          return;
        }
        await run(async (env) => {
          const outages = env.dest.outages!;
          await outages[kind]!();
          const s = makeScenario("tsv", 2, { conn: 400, dns: 80 });
          await publish(env.ctx, s, 25);
          const store = new SinkProgressStore(env.ctx.topology.sinks);
          await eventually(async () => Boolean((await store.ofJob(s.job))[env.name]?.lastError), timeoutMs, () => "the outage on the job's lastError");
          await outages.restore();
          await deliverAndCheck(env, s);
        });
      });
    }

    test("close() flushes: everything written before it is at the destination after it", { timeout: timeoutMs * 2 }, async () => {
      const dest = await target.start();
      try {
        const parsed = target.factory.optionsSchema.safeParse(dest.options);
        assert.ok(parsed.success);
        const config = loadConfig({ BROCAPI_SINKS: "none" });
        const sink = await target.factory.create(parsed.data, { name: "under-test", log: pino({ level: "silent" }), config });
        const s = makeScenario("tsv", 1, { conn: 120 });
        const lines = s.lines.get("conn")![0]!;
        const convert = format === "json" ? (l: string) => toJsonText.convert(l) : (l: string) => l;
        for (let first = 0; first < lines.length; first += 40) {
          const chunk = lines.slice(first, first + 40).map(convert);
          await sink.write({
            jobId: s.job,
            tag: "conformance",
            pcap: "capture-0.pcap",
            pcapIndex: 0,
            logType: "conn",
            format: format === "json" ? "json" : "tsv",
            zeekHeader: format === "json" ? null : TSV_HEADER,
            firstLine: first + 1,
            lineCount: chunk.length,
            payload: Buffer.from(chunk.join("\n")),
          });
        }
        await sink.close();
        // The destination may still be storing what it took (a syslog daemon writing its file).
        await eventually(async () => (await arrivedCount(dest, s, format)) >= lines.length, timeoutMs, () => `${lines.length} lines after close()`);
        checkArrived(await dest.received(), s, format, dest.exactlyOnce);
      } finally {
        await dest.stop();
      }
    });
  });
}
