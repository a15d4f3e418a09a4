// The page's log preview reads Zeek's TSV by its header (separator, #fields, #types, a second
// header block where captures with other fields meet) and JSON lines, into rows by field name.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LogTableReader } from "../services/web/logs/log-table.js";

const tsv = (fields: string[], types: string[], rows: string[][]): string[] => [
  "#separator \\x09",
  "#set_separator\t,",
  "#empty_field\t(empty)",
  "#unset_field\t-",
  "#path\tconn",
  "#open\t2026-12-01-10-00-00",
  `#fields\t${fields.join("\t")}`,
  `#types\t${types.join("\t")}`,
  ...rows.map((r) => r.join("\t")),
];

test("TSV: columns from #fields, types from #types, values as Zeek wrote them", () => {
  const reader = new LogTableReader();
  for (const line of tsv(["ts", "uid", "id.orig_h", "service"], ["time", "string", "addr", "string"], [["1362692526.869344", "CHhAvVGS1DHFjwGM9", "141.142.228.5", "-"], ["1362692527.000000", "C2", "10.0.0.1", "(empty)"]])) reader.push(line);
  reader.push("#close\t2026-12-01-10-00-01");
  assert.deepEqual(reader.table.columns, ["ts", "uid", "id.orig_h", "service"]);
  assert.equal(reader.table.types["ts"], "time");
  assert.deepEqual(reader.table.rows, [
    { ts: "1362692526.869344", uid: "CHhAvVGS1DHFjwGM9", "id.orig_h": "141.142.228.5", service: "-" },
    { ts: "1362692527.000000", uid: "C2", "id.orig_h": "10.0.0.1", service: "(empty)" },
  ]);
});

test("TSV: a second header block with other #fields adds its columns; rows keep their own fields", () => {
  const reader = new LogTableReader();
  for (const line of [...tsv(["ts", "uid"], ["time", "string"], [["1", "A"]]), ...tsv(["ts", "uid", "extra"], ["time", "string", "count"], [["2", "B", "7"]])]) reader.push(line);
  assert.deepEqual(reader.table.columns, ["ts", "uid", "extra"]);
  assert.deepEqual(reader.table.rows, [{ ts: "1", uid: "A" }, { ts: "2", uid: "B", extra: "7" }]);
});

test("JSON lines: columns in order of first appearance; numbers, arrays and booleans as text", () => {
  const reader = new LogTableReader();
  reader.push('{"ts":1362692526.869344,"uid":"C1","id.orig_h":"141.142.228.5","tunnel_parents":["Cx","Cy"],"local_orig":false}');
  reader.push('{"ts":1362692527.1,"uid":"C2","service":"dns"}');
  reader.push("");
  assert.deepEqual(reader.table.columns, ["ts", "uid", "id.orig_h", "tunnel_parents", "local_orig", "service"]);
  assert.deepEqual(reader.table.rows[0], { ts: "1362692526.869344", uid: "C1", "id.orig_h": "141.142.228.5", tunnel_parents: "Cx,Cy", local_orig: "false" });
  assert.deepEqual(reader.table.rows[1], { ts: "1362692527.1", uid: "C2", service: "dns" });
});
