import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fromParts, mergeHostLogs, toParts, type HostLog } from "../shared/sharding/host-logs.js";
import { RECORDINGS } from "./helpers/recordings.js";

/** A recorded real Zeek 8.2.2 log: TSV header block and rows, or JSON lines. */
function recorded(mode: "tsv" | "json", trace: string, log: string): HostLog {
  const lines = readFileSync(`${RECORDINGS}${mode}/${trace}/${log}.log`, "utf8").split("\n").filter(Boolean);
  if (mode === "json") return { header: null, lines };
  return { header: lines.filter((l) => l.startsWith("#") && !l.startsWith("#close")), lines: lines.filter((l) => !l.startsWith("#")) };
}

/** The same row seen `seconds` later (another shard's sighting of the same host). */
function later(mode: "tsv" | "json", line: string, seconds: number, change: Record<string, unknown> = {}): string {
  if (mode === "tsv") {
    const [ts, ...rest] = line.split("\t");
    return [(Number(ts) + seconds).toFixed(6), ...rest].join("\t");
  }
  const r = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ ...r, ...change, ts: (r["ts"] as number) + seconds });
}

test("per-host logs repeated by several shards merge into what Zeek logged from the whole capture (recorded real Zeek logs, TSV and JSON)", () => {
  for (const mode of ["tsv", "json"] as const) {
    for (const [trace, log] of [["ssh", "known_hosts"], ["ssh", "known_services"], ["ssh", "software"], ["big-smb3", "known_services"], ["smtp", "known_hosts"]] as const) {
      const whole = recorded(mode, trace, log);
      // Three shards: each row in one of them, and each host seen again (later the same day) in another.
      const shards = [0, 1, 2].map((k) => ({
        [log]: { header: whole.header, lines: whole.lines.flatMap((l, i) => (i % 3 === k ? [l] : i % 3 === (k + 1) % 3 ? [later(mode, l, 600)] : [])) },
      }));
      const merged = mergeHostLogs(mode, shards)[log]!;
      // Rows of one time come in no particular order (Zeek writes a connection's two hosts in hash order).
      assert.deepEqual([...merged.lines].sort(), [...whole.lines].sort(), `${mode} ${trace} ${log}`);
      const times = merged.lines.map((l) => (mode === "tsv" ? Number(l.split("\t")[0]) : (JSON.parse(l) as { ts: number }).ts));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), "in time order");
      assert.deepEqual(merged.header, whole.header);
    }
  }
});

test("a repeat a day or more later is logged again (Known::*_store_expiry); software once a day per version, whatever port it was seen on", () => {
  const hosts = recorded("json", "smtp", "known_hosts");
  const first = hosts.lines[0]!;
  const merged = mergeHostLogs("json", [{ known_hosts: { header: null, lines: [first] } }, { known_hosts: { header: null, lines: [later("json", first, 3_600), later("json", first, 90_000)] } }]);
  assert.deepEqual(merged.known_hosts!.lines, [first, later("json", first, 90_000)]);
  const software = recorded("json", "ssh", "software");
  const one = software.lines[0]!;
  const again = mergeHostLogs("json", [{ software: { header: null, lines: [later("json", one, 40_000, { host_p: 51000 })] } }, { software: { header: null, lines: [one] } }]);
  assert.deepEqual(again.software!.lines, [one], "the earliest sighting, once a day");
});

test("a per-host log this version does not know (held back by a newer worker during an upgrade) is merged by the Known::* rule, not dropped", () => {
  const row = '{"ts":10.0,"host":"10.0.0.1","seen":"x"}';
  const merged = mergeHostLogs("json", [{ known_things: { header: null, lines: [row] } }, { known_things: { header: null, lines: [later("json", row, 60), later("json", row, 90_000)] } }]);
  assert.deepEqual(merged.known_things?.lines, [row, later("json", row, 90_000)]);
});

test("kept per-host lines survive being cut into KV-sized parts, multi-byte characters included", () => {
  const logs = { software: { header: null, lines: ['{"ts":1.0,"host":"10.0.0.1","name":"Ünïcødé 🦀 client"}', '{"ts":2.0,"host":"10.0.0.2","name":"x"}'] } };
  for (const size of [1, 2, 3, 7, 1000]) {
    const parts = toParts(logs, size);
    for (const p of parts) assert.equal(Buffer.from(p, "utf8").toString("utf8"), p, "each part is valid UTF-8 on its own");
    assert.deepEqual(fromParts(parts), logs);
  }
  assert.deepEqual(fromParts([]), {});
});
