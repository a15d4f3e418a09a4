import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readZeekLog, type LineBatch } from "../shared/zeek/log-reader.js";
import { RECORDINGS } from "./helpers/recordings.js";

async function collect(path: string, format: "tsv" | "json", batchLines: number): Promise<LineBatch[]> {
  const out: LineBatch[] = [];
  for await (const b of readZeekLog(path, format, batchLines)) out.push(b);
  return out;
}

interface Recorded {
  name: string;
  mode: "tsv" | "json";
  cwd: string;
  files: Record<string, { lines: number }>;
}

function recordedRuns(): Recorded[] {
  const results = JSON.parse(readFileSync(join(RECORDINGS, "results.json"), "utf8")) as { good: Recorded[] };
  return results.good;
}

test("real Zeek TSV logs: record counts equal the JSON run's, batches contiguous, bytes intact", async () => {
  const runs = recordedRuns();
  let logs = 0;
  for (const tsv of runs.filter((r) => r.mode === "tsv")) {
    const json = runs.find((r) => r.mode === "json" && r.name === tsv.name)!;
    for (const file of Object.keys(tsv.files)) {
      const path = join(RECORDINGS, tsv.cwd, file);
      const batches = await collect(path, "tsv", 7);
      const records = batches.reduce((n, b) => n + b.lineCount, 0);
      // OBSERVATIONS: TSV and JSON runs write the same records; JSON has exactly one line per record.
      assert.equal(records, json.files[file]!.lines, `${tsv.name}/${file}`);
      let next = 1;
      for (const b of batches) {
        assert.equal(b.firstLine, next);
        assert.ok(b.lineCount <= 7);
        assert.equal(b.payload.toString("utf8").split("\n").length, b.lineCount);
        assert.equal(b.header!.length, 8);
        assert.match(b.header![0]!, /^#separator \\x09$/);
        assert.match(b.header![6]!, /^#fields\t/);
        assert.match(b.header![7]!, /^#types\t/);
        next += b.lineCount;
      }
      const data = readFileSync(path, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      assert.equal(batches.map((b) => b.payload.toString("utf8")).join("\n"), data.join("\n"));
      logs++;
    }
  }
  assert.ok(logs > 100, `read ${logs} logs`);
});

test("real Zeek JSON logs: one record per line, no header", async () => {
  for (const run of recordedRuns().filter((r) => r.mode === "json")) {
    for (const [file, { lines }] of Object.entries(run.files)) {
      const batches = await collect(join(RECORDINGS, run.cwd, file), "json", 256);
      assert.equal(batches.reduce((n, b) => n + b.lineCount, 0), lines, `${run.name}/${file}`);
      for (const b of batches) {
        assert.equal(b.header, null);
        for (const line of b.payload.toString("utf8").split("\n")) assert.equal(typeof JSON.parse(line), "object");
      }
    }
  }
});

test("what a failed Zeek run leaves (header-only and empty files) yields no lines", async () => {
  for (const mode of ["tsv", "json"] as const) {
    for (const name of readdirSync(join(RECORDINGS, "bad", mode))) {
      for (const file of readdirSync(join(RECORDINGS, "bad", mode, name))) {
        if (file === "loaded_scripts.log" || file === "packet_filter.log") continue;
        const batches = await collect(join(RECORDINGS, "bad", mode, name, file), mode, 100);
        assert.equal(batches.reduce((n, b) => n + b.lineCount, 0), 0, `${mode}/${name}/${file}`);
      }
    }
  }
});

test("a header block mid-file starts a new batch with the new fields; #close is dropped; long lines survive chunking", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-reader-"));
  const head = (fields: string) => [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#open\t2026-11-28-08-00-00",
    `#fields\t${fields}`,
    "#types\tstring",
  ];
  const long = "x".repeat(3 * 1024 * 1024);
  const text = [...head("a"), "1", "2", "3", ...head("b"), long, "5", "#close\t2026-11-28-08-00-01", ""].join("\n");
  const path = join(dir, "conn.log");
  await writeFile(path, text);
  const batches = await collect(path, "tsv", 2);
  assert.deepEqual(
    batches.map((b) => [b.firstLine, b.lineCount, b.header![6]]),
    [
      [1, 2, "#fields\ta"],
      [3, 1, "#fields\ta"],
      [4, 2, "#fields\tb"],
    ],
  );
  assert.equal(batches[2]!.payload.toString(), `${long}\n5`);
});

test("batch size 1 and a file without a final newline", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-reader-"));
  const path = join(dir, "dns.log");
  await writeFile(path, '{"a":1}\n{"a":2}\n{"a":3}');
  const batches = await collect(path, "json", 1);
  assert.deepEqual(
    batches.map((b) => [b.firstLine, b.payload.toString()]),
    [
      [1, '{"a":1}'],
      [2, '{"a":2}'],
      [3, '{"a":3}'],
    ],
  );
});
