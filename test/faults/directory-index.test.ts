import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { pino } from "pino";
import type { LogBatch } from "../../shared/messages/log-batch.js";
import { INDEX_FILE, recoverJobDir } from "../../services/shipper/sinks/directory/delivered-index.js";
import { DirectorySink } from "../../services/shipper/sinks/directory/directory-sink.js";

// The crash states of the directory sink, made by cutting the files a real sink wrote at the
// points where a SIGKILL can stop it: after the index entry and before the bytes, in the middle
// of the bytes, and after the bytes but before NATS got the ack. Each time the batch comes again
// (NATS redelivers what was not acked) and must end up in the file exactly once.

const HEADER = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn", "#fields\tts\tuid", "#types\ttime\tstring"];

let root: string;
const jobId = randomUUID();
const jobDir = (): string => join(root, jobId);
const log = pino({ level: "silent" });

function batch(logType: string, pcapIndex: number, firstLine: number, lineCount: number): LogBatch {
  const lines = Array.from({ length: lineCount }, (_, i) => `${pcapIndex}.${firstLine + i}\tC${logType}${pcapIndex}x${firstLine + i}`);
  return {
    jobId,
    tag: null,
    pcap: `p${pcapIndex}.pcap`,
    pcapIndex,
    logType,
    format: "tsv",
    zeekHeader: HEADER.map((l) => l.replace("conn", logType)),
    firstLine,
    lineCount,
    payload: Buffer.from(lines.join("\n")),
  };
}

/** Sinks that "died": their files are closed only after the test, as the kernel would at exit. */
const dead: DirectorySink[] = [];

/** Writes batches with a sink that then goes away without closing anything, as a killed one does. */
async function writeAndDie(...batches: LogBatch[]): Promise<void> {
  const sink = new DirectorySink(root, log);
  dead.push(sink);
  for (const b of batches) await sink.write(b);
}

/** A new sink process: writes the redelivered batches and closes. */
async function restartAndWrite(...batches: LogBatch[]): Promise<void> {
  const sink = new DirectorySink(root, log);
  for (const b of batches) await sink.write(b);
  await sink.close();
}

const dataLines = async (logType: string): Promise<string[]> =>
  (await readFile(join(jobDir(), `${logType}.log`), "utf8")).split("\n").filter((l) => l && !l.startsWith("#"));

const expectedLines = (...batches: LogBatch[]): string[] => batches.flatMap((b) => Buffer.from(b.payload).toString("utf8").split("\n"));

const indexLines = async (): Promise<string[]> => (await readFile(join(jobDir(), INDEX_FILE), "utf8")).split("\n").filter(Boolean);

const size = async (logType: string): Promise<number> => (await stat(join(jobDir(), `${logType}.log`))).size;

describe("directory sink: crash-safe, idempotent by (job, capture, log, first line)", () => {
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "brocapi-dirsink-"));
  });
  afterEach(async () => {
    await Promise.all(dead.splice(0).map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
  });

  test("each index entry records the batch's byte range in its log file, written before the bytes", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    await writeAndDie(a, b);
    const [first, second] = (await indexLines()).map((l) => l.split(" "));
    assert.deepEqual(first!.slice(0, 4), ["0", "conn", "1", "0"]);
    const firstLength = Number(first![4]);
    assert.deepEqual(second!.slice(0, 4), ["0", "conn", "4", String(firstLength)]);
    assert.equal(firstLength + Number(second![4]), await size("conn"));
  });

  test("the entry goes to disk before the bytes: when it cannot be written, no byte of the batch is, and the redelivery writes it once", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    const sink = new DirectorySink(root, log);
    dead.push(sink);
    await sink.write(a);
    const before = await size("conn");
    // The index becomes unwritable (appending to a folder fails): a crash between entry and bytes, made certain.
    const index = join(jobDir(), INDEX_FILE);
    const saved = await readFile(index);
    await rm(index);
    await mkdir(index);
    await assert.rejects(sink.write(b));
    assert.equal(await size("conn"), before, "no byte of the batch reached its log file without its entry");
    await rm(index, { recursive: true });
    await writeFile(index, saved);
    await restartAndWrite(b);
    assert.deepEqual(await dataLines("conn"), expectedLines(a, b));
  });

  test("a batch redelivered after it was written and indexed (killed before the ack) is skipped", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    await writeAndDie(a, b);
    const before = await size("conn");
    await restartAndWrite(b, a);
    assert.equal(await size("conn"), before);
    assert.deepEqual(await dataLines("conn"), expectedLines(a, b));
  });

  test("killed after the index entry, before any byte of the batch: the entry is dropped and the batch written once", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    await writeAndDie(a, b);
    const [, entryB] = await indexLines();
    await truncate(join(jobDir(), "conn.log"), Number(entryB!.split(" ")[3]));
    await restartAndWrite(b);
    assert.deepEqual(await dataLines("conn"), expectedLines(a, b));
    assert.equal((await indexLines()).length, 2);
  });

  test("killed in the middle of a batch: the partial batch is cut off and the batch written once, whole", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 5);
    const c = batch("conn", 1, 1, 2);
    await writeAndDie(a, b);
    const [, entryB] = await indexLines();
    const [, , , offset, length] = entryB!.split(" ").map(Number);
    await truncate(join(jobDir(), "conn.log"), offset! + Math.floor(length! / 2));
    await restartAndWrite(b, c);
    assert.deepEqual(await dataLines("conn"), expectedLines(a, b, c));
    const text = await readFile(join(jobDir(), "conn.log"), "utf8");
    assert.equal(text.split("\n").filter((l) => l.startsWith("#fields")).length, 1, "header block once");
  });

  test("killed in the middle of the first batch of a file: the file is cut to nothing and starts again with its header", async () => {
    const a = batch("conn", 0, 1, 3);
    await writeAndDie(a);
    await truncate(join(jobDir(), "conn.log"), 20);
    await restartAndWrite(a);
    const text = await readFile(join(jobDir(), "conn.log"), "utf8");
    assert.ok(text.startsWith("#separator"), text);
    assert.equal(text.split("\n").filter((l) => l.startsWith("#fields")).length, 1);
    assert.deepEqual(await dataLines("conn"), expectedLines(a));
  });

  test("only the last entry of each log file is checked; each file is recovered on its own", async () => {
    const conn = [batch("conn", 0, 1, 3), batch("conn", 0, 4, 3)];
    const dns = [batch("dns", 0, 1, 2), batch("dns", 0, 3, 2)];
    // Interleaved, as batches of two logs arrive: conn's last batch complete, dns's last one half-written.
    await writeAndDie(conn[0]!, dns[0]!, conn[1]!, dns[1]!);
    const entryDns = (await indexLines()).at(-1)!.split(" ").map(Number);
    await truncate(join(jobDir(), "dns.log"), entryDns[3]! + 3);
    await restartAndWrite(dns[1]!, conn[1]!);
    assert.deepEqual(await dataLines("conn"), expectedLines(...conn));
    assert.deepEqual(await dataLines("dns"), expectedLines(...dns));
  });

  test("a torn last index line (killed while appending the entry) is dropped; the batch is written once", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    await writeAndDie(a);
    await appendFile(join(jobDir(), INDEX_FILE), "0 conn 4 1");
    await restartAndWrite(b);
    assert.deepEqual(await dataLines("conn"), expectedLines(a, b));
    assert.deepEqual((await indexLines()).map((l) => l.split(" ").slice(0, 3).join(" ")), ["0 conn 1", "0 conn 4"]);
  });

  test("a dropped entry is removed from the index, so it cannot pass for a finished batch once later ones follow", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 2);
    const c = batch("conn", 0, 6, 2);
    await writeAndDie(a, b);
    const [, entryB] = await indexLines();
    await truncate(join(jobDir(), "conn.log"), Number(entryB!.split(" ")[3]));
    // A restarted sink writes c first (b comes back only after the ack wait), then dies again.
    await writeAndDie(c);
    await restartAndWrite(b);
    assert.deepEqual([...(await dataLines("conn"))].sort(), expectedLines(a, b, c).sort());
  });

  test("recovery interrupted after cutting the file and before rewriting the index gives the same result when run again", async () => {
    const a = batch("conn", 0, 1, 3);
    const b = batch("conn", 0, 4, 4);
    await writeAndDie(a, b);
    const indexBefore = await readFile(join(jobDir(), INDEX_FILE), "utf8");
    const [, entryB] = await indexLines();
    const offset = Number(entryB!.split(" ")[3]);
    await truncate(join(jobDir(), "conn.log"), offset + 5);
    assert.deepEqual([...(await recoverJobDir(jobDir()))], ["0 conn 1"]);
    // As if the rename of the new index never happened.
    await writeFile(join(jobDir(), INDEX_FILE), indexBefore);
    assert.deepEqual([...(await recoverJobDir(jobDir()))], ["0 conn 1"]);
    assert.equal(await size("conn"), offset);
  });
});
