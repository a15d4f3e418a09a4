import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { test } from "node:test";
import { batchLines } from "../shared/messages/log-batch.js";
import { readZeekLog } from "../shared/zeek/log-reader.js";
import { TsvToJson, ZeekTsvError } from "../shared/zeek/tsv-to-json.js";
import { RECORDINGS } from "./helpers/recordings.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Connection uids are random per Zeek run, so the TSV and JSON runs of a trace share none. */
const UID_FIELDS = new Set(["uid", "uids"]);

/**
 * Values that differ between the two recorded runs for reasons outside the conversion. The whole
 * telemetry log: its values are the Zeek process's own CPU seconds and memory. packet_filter's ts is
 * the wall-clock time the filter was installed, not trace time. stats' mem is the process's memory.
 */
const SKIP_LOGS = new Set(["telemetry.log"]);
const SKIP_FIELDS: Record<string, readonly string[]> = { "packet_filter.log": ["ts"], "stats.log": ["mem"] };

const DOUBLE_TYPES = new Set(["time", "interval", "double"]);

/** TSV keeps 6 decimals where Zeek's JSON keeps the whole double. */
function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-5 || Math.abs(a - b) <= 1e-6 * Math.abs(b);
}

function sameValue(got: Json | undefined, want: Json | undefined, type: string): boolean {
  const container = /^(set|vector)\[(.*)\]$/.exec(type);
  if (container) {
    if (!Array.isArray(got) || !Array.isArray(want)) return false;
    // Zeek writes a set holding only "" as `(empty)`, like an empty set: TSV cannot tell them
    // apart, the converter reads `[]` (ssh/known_services.log has one).
    if (got.length === 0 && want.length === 1 && want[0] === "") return true;
    if (got.length !== want.length) return false;
    // A set has no order, and the two runs iterate it differently (files.log analyzers).
    const sort = (a: Json[]): Json[] => (container[1] === "set" ? [...a].sort() : a);
    const [g, w] = [sort(got), sort(want)];
    return g.every((item, i) => sameValue(item, w[i], container[2]!));
  }
  if (DOUBLE_TYPES.has(type)) return typeof got === "number" && typeof want === "number" && closeEnough(got, want);
  return got === want;
}

type JsonRecord = Record<string, Json>;

/** Same keys in the same order, equal values but for uids (UidPairing checks those) and skipped fields. */
function sameRecord(got: JsonRecord, want: JsonRecord, types: Map<string, string>, skipped: Set<string>): boolean {
  const keys = Object.keys(got);
  if (keys.join() !== Object.keys(want).join()) return false;
  return keys.every((k) => UID_FIELDS.has(k) || skipped.has(k) || sameValue(got[k], want[k], types.get(k)!));
}

/**
 * Pairs each TSV-run uid with one JSON-run uid, the same pairing across all logs of one trace:
 * conn.log (read first) pairs them, every later log must agree.
 */
class UidPairing {
  private readonly forward = new Map<string, string>();
  private readonly backward = new Map<string, string>();
  check(got: JsonRecord, want: JsonRecord, where: string): void {
    if (typeof got.uid === "string" && typeof want.uid === "string") this.pair(got.uid, want.uid, where);
    if (Array.isArray(got.uids)) {
      const mapped = got.uids.map((u) => this.forward.get(String(u)) ?? `unpaired ${String(u)}`);
      assert.deepEqual(mapped.sort(), [want.uids ?? []].flat().map(String).sort(), `${where}: uids`);
    }
  }
  private pair(tsv: string, json: string, where: string): void {
    assert.equal(this.forward.get(tsv) ?? json, json, `${where}: uid ${tsv} already paired with another`);
    assert.equal(this.backward.get(json) ?? tsv, tsv, `${where}: uid ${json} already paired with another`);
    this.forward.set(tsv, json);
    this.backward.set(json, tsv);
  }
}

test("every recorded TSV log converts to the JSON run's records", async () => {
  let records = 0;
  let logs = 0;
  let reordered = 0;
  let identical = 0;
  for (const trace of readdirSync(join(RECORDINGS, "tsv"))) {
    const uids = new UidPairing();
    // conn.log first: it pairs the uids that the other logs then use.
    const names = readdirSync(join(RECORDINGS, "tsv", trace)).sort((a, b) => Number(b === "conn.log") - Number(a === "conn.log"));
    for (const log of names) {
      const jsonPath = join(RECORDINGS, "json", trace, log);
      if (SKIP_LOGS.has(log) || !existsSync(jsonPath)) continue;
      const wantLines = readFileSync(jsonPath, "utf8").split("\n").filter((l) => l !== "");
      const want = wantLines.map((l) => JSON.parse(l) as JsonRecord);
      const unmatched = new Set(want.keys());
      const skipped = new Set(SKIP_FIELDS[log] ?? []);
      let n = 0;
      for await (const batch of readZeekLog(join(RECORDINGS, "tsv", trace, log), "tsv", 500)) {
        const converter = new TsvToJson(batch.header!);
        const types = new Map(zip(batch.header!, "#fields", "#types"));
        for (const line of batchLines(batch.payload)) {
          const text = converter.convert(line);
          const got = JSON.parse(text) as JsonRecord;
          const where = `${trace}/${log} record ${n + 1}`;
          // Records written at the same instant may come in another order in the other run
          // (known_hosts): look further when the record at the same position differs.
          const match = unmatched.has(n) && sameRecord(got, want[n]!, types, skipped)
            ? n
            : [...unmatched].find((i) => sameRecord(got, want[i]!, types, skipped));
          assert.ok(match !== undefined, `${where}: no record of the JSON run equals ${JSON.stringify(got)}`);
          if (match !== n) reordered++;
          unmatched.delete(match);
          uids.check(got, want[match]!, where);
          // Where no value was rounded by TSV or differs by run, the text is Zeek's to the byte.
          if (isDeepStrictEqual(got, want[match])) {
            assert.equal(text, wantLines[match], where);
            identical++;
          }
          n++;
        }
      }
      assert.equal(n, want.length, `${trace}/${log}: record count`);
      records += n;
      logs++;
    }
  }
  assert.ok(logs > 100 && records > 7_000, `compared ${records} records in ${logs} logs`);
  assert.ok(identical > records / 2, `${identical} of ${records} records byte-identical`);
  assert.ok(reordered < records / 100, `${reordered} records found at another position`);
});

/** Pairs the names of `#fields` with the entries of `#types`. */
function zip(header: readonly string[], fieldsLine: string, typesLine: string): [string, string][] {
  const row = (name: string): string[] => header.find((l) => l.startsWith(`${name}\t`))!.split("\t").slice(1);
  const types = row(typesLine);
  return row(fieldsLine).map((f, i) => [f, types[i]!]);
}

const HEADER = [
  "#separator \\x09",
  "#set_separator\t,",
  "#empty_field\t(empty)",
  "#unset_field\t-",
  "#path\ttest",
  "#open\t2026-11-28-08-22-54",
  "#fields\tts\tuid\tid.orig_h\tid.orig_p\tproto\tlocal\tnote\tnames\ttags\tttls\tcount\tdelta",
  "#types\ttime\tstring\taddr\tport\tenum\tbool\tstring\tset[string]\tset[enum]\tvector[interval]\tcount\tint",
];

test("a hand-written log: every type, markers and escapes", () => {
  const c = new TsvToJson(HEADER);
  const line = [
    "1362692526.869344",
    "CHhAvVGS1DHFjwGM9",
    "2001:db8::1",
    "59856",
    "tcp",
    "T",
    // The separator, a backslash, raw UTF-8, a byte that is not UTF-8 (Zeek's JSON keeps it as the
    // text \xff), escaped bytes that are UTF-8, a control character, quotes.
    "tab\\x09inside, back\\\\slash \u00e9 \\xff\\xc3\\xa9 \\x01 \"q\"",
    // The set separator inside an element, and an empty string element.
    "a\\x2cb,c,(empty)",
    "(empty)",
    // An unset vector element is null.
    "3600.000000,0.5,-",
    // Above 2^53: the digits are copied, not rounded through a JS number.
    "18446744073709551615",
    "-42",
  ].join("\t");
  const text = c.convert(line);
  assert.equal(
    text,
    '{"ts":1362692526.869344,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"2001:db8::1","id.orig_p":59856,"proto":"tcp","local":true,' +
      '"note":"tab\\tinside, back\\\\slash \u00e9 \\\\xffé \\u0001 \\"q\\"","names":["a,b","c",""],"tags":[],"ttls":[3600.0,0.5,null],' +
      '"count":18446744073709551615,"delta":-42}',
  );
  // Bytes in: the same line as a Zeek log file holds it.
  assert.equal(c.convert(Buffer.from(line)), text);
});

test("unset fields are left out, an empty string is \"\", a lone dash is escaped, F is false", () => {
  const c = new TsvToJson(HEADER);
  // Zeek writes the string "-" as \x2d so that it does not read as unset.
  const line = ["0.000000", "\\x2d", "-", "-", "-", "F", "(empty)", "-", "-", "(empty)", "0", "-"].join("\t");
  assert.equal(c.convert(line), '{"ts":0.0,"uid":"-","local":false,"note":"","ttls":[],"count":0}');
});

test("another separator and markers, as the header declares them", () => {
  const c = new TsvToJson([
    "#separator \\x7c",
    "#set_separator|;",
    "#empty_field|EMPTY",
    "#unset_field|NONE",
    "#fields|a|b|c",
    "#types|set[count]|string|double",
  ]);
  assert.equal(c.convert("1;2|x\\x7cy|1e+21"), '{"a":[1,2],"b":"x|y","c":1e21}');
  assert.equal(c.convert("EMPTY|NONE|-2.5"), '{"a":[],"c":-2.5}');
  // Zeek's JSON writer has no NaN or infinity: it writes null.
  assert.equal(c.convert("NONE|NONE|-inf"), '{"c":null}');
});

test("malformed headers and lines are refused with ZeekTsvError", () => {
  assert.throws(() => new TsvToJson(HEADER.slice(1)), ZeekTsvError);
  assert.throws(() => new TsvToJson(HEADER.filter((l) => !l.startsWith("#types"))), /#types/);
  assert.throws(() => new TsvToJson([...HEADER.slice(0, 7), "#types\ttime"]), /12 #fields but 1 #types/);
  const c = new TsvToJson(HEADER);
  const good = ["1.0", "C1", "1.2.3.4", "1", "tcp", "T", "x", "a", "b", "1.0", "1", "1"];
  const withValue = (i: number, v: string): string => good.map((g, j) => (j === i ? v : g)).join("\t");
  assert.doesNotThrow(() => c.convert(good.join("\t")));
  assert.throws(() => c.convert(good.slice(1).join("\t")), /11 values for 12 fields/);
  assert.throws(() => c.convert(withValue(5, "yes")), /bool/);
  assert.throws(() => c.convert(withValue(3, "080")), /integer/);
  assert.throws(() => c.convert(withValue(10, "1.5")), /integer/);
  assert.throws(() => c.convert(withValue(0, "soon")), /double/);
});
