import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { ZEEK_DOUBLE } from "../helpers/stack.js";
import { checkConnLines, writeCaptures, type Capture } from "./harness.js";

// The fault tests judge order by ts: a capture's conn lines must reach a sink in increasing ts
// order. That holds only if the Zeek double writes conn.log in that order for these captures,
// which is checked here first, along with the checker itself.

let dir: string;
let captures: Capture[];
let conn: string[][];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-baseline-"));
  captures = await writeCaptures(dir, [2000, 700]);
  conn = await Promise.all(
    captures.map(async (c) => {
      const out = join(dir, `out-${c.slot}`);
      await mkdir(out);
      await promisify(execFile)(ZEEK_DOUBLE, ["-C", "-r", c.path, "local"], { cwd: out });
      return (await readFile(join(out, "conn.log"), "utf8")).split("\n").filter((l) => l && !l.startsWith("#"));
    }),
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the Zeek double writes one conn line per synthetic flow, in increasing ts order, each capture in its own ts range", () => {
  const interleaved = conn[0]!.flatMap((line, i) => [line, ...(conn[1]![i] !== undefined ? [conn[1]![i]!] : [])]);
  assert.deepEqual(checkConnLines(interleaved, captures), { expected: 2700, received: 2700, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
});

test("the checker counts a line again under another uid as a duplicate, a line moved back as out of order, and a torn line as malformed", () => {
  const lines = conn[0]!;
  const anotherUid = lines[5]!.replace(/^([^\t]+)\t[^\t]+/, "$1\tCanotherRunUid01");
  const moved = [...lines.slice(0, 10), lines[12]!, lines[10]!, lines[11]!, ...lines.slice(13)];
  assert.deepEqual(checkConnLines([...moved, anotherUid, lines[7]!.slice(0, 30)], [captures[0]!]), {
    expected: 2000,
    received: 2001,
    missing: 0,
    duplicates: 1,
    outOfOrder: 1,
    malformed: 1,
  });
  assert.equal(checkConnLines(lines.slice(1), [captures[0]!]).missing, 1);
});
