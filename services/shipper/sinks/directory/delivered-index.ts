import { appendFile, readFile, rename, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { batchSource, type LogBatch } from "../../../../shared/messages/log-batch.js";

export const INDEX_FILE = ".brocapi-delivered";

type BatchKey = Pick<LogBatch, "pcapIndex" | "shard" | "logType" | "firstLine">;

/** A batch's key in the index: `<capture>[.<shard>] <log> <first line>`. */
export const keyOf = (b: BatchKey): string => `${batchSource(b)} ${b.logType} ${b.firstLine}`;

/** A line of the index: a batch, and the bytes of `<log type>.log` it was about to fill. */
interface Entry {
  key: string;
  logType: string;
  offset: number;
  length: number;
}

/** `<capture>[.<shard>] <log> <first line> <offset> <length>` */
const ENTRY = /^(\d+(?:\.\d+)?) ([A-Za-z0-9_-]+) (\d+) (\d+) (\d+)$/;

function parseEntry(line: string): Entry | null {
  const m = ENTRY.exec(line);
  if (!m) return null;
  return { key: `${m[1]} ${m[2]} ${m[3]}`, logType: m[2]!, offset: Number(m[4]), length: Number(m[5]) };
}

const formatEntry = (e: Entry): string => `${e.key} ${e.offset} ${e.length}\n`;

const orWhenMissing =
  <T>(value: T) =>
  (err: NodeJS.ErrnoException): T => {
    if (err.code === "ENOENT") return value;
    throw err;
  };

/**
 * Brings a job folder back to a state where every index entry is a batch wholly in its log file,
 * and returns their keys. An entry is written before its batch's bytes, and the batches of one
 * file are written one at a time, so only the last entry of each file can be unfinished; the
 * file's size says how far it got:
 *
 * - size ≥ offset + length: the batch is complete; kept.
 * - size ≤ offset: nothing of it was written; the entry is dropped.
 * - in between: a partial batch; the file is cut back to `offset` and the entry dropped.
 *
 * A torn last index line (killed mid-append) is dropped too. Files are cut before the index is
 * replaced (write + rename), so a crash during recovery leaves a state the next recovery handles.
 */
export async function recoverJobDir(jobDir: string): Promise<Set<string>> {
  const indexPath = join(jobDir, INDEX_FILE);
  const lines = (await readFile(indexPath, "utf8").catch(orWhenMissing(""))).split("\n");
  // A complete index ends in LF, so the last piece is empty; anything else is a torn append.
  const torn = lines.pop() !== "";
  const parsed = lines.map(parseEntry);
  const entries = parsed.filter((e): e is Entry => e !== null);
  const lastOfFile = new Map(entries.map((e) => [e.logType, e]));
  const unfinished = new Set<Entry>();
  for (const [logType, entry] of lastOfFile) {
    const path = join(jobDir, `${logType}.log`);
    const size = await stat(path).then((s) => s.size, orWhenMissing(0));
    if (size >= entry.offset + entry.length) continue;
    if (size > entry.offset) await truncate(path, entry.offset);
    unfinished.add(entry);
  }
  const kept = entries.filter((e) => !unfinished.has(e));
  if (torn || unfinished.size > 0 || kept.length !== parsed.length) {
    const tmp = `${indexPath}.tmp`;
    await writeFile(tmp, kept.map(formatEntry).join(""));
    await rename(tmp, indexPath);
  }
  return new Set(kept.map((e) => e.key));
}

/**
 * Which batches a job folder already holds, by (capture, log, first line), kept in a file beside
 * the logs, so that a batch NATS hands out again (a shipper restarted before its ack, a worker's
 * retry) is written once, even when the shipper was killed in the middle of writing it. Each
 * entry also records the byte range the batch takes in its log file (see `recoverJobDir`).
 * One process per folder: the index is read once, on first use.
 */
export class DeliveredIndex {
  private readonly jobs = new Map<string, Set<string>>();
  /** Batches this process wrote (not found in the index at start): kept across `forget`. */
  private readonly written = new Set<string>();

  private async keys(jobDir: string): Promise<Set<string>> {
    let keys = this.jobs.get(jobDir);
    if (!keys) {
      keys = await recoverJobDir(jobDir);
      this.jobs.set(jobDir, keys);
    }
    return keys;
  }

  /** Loads (recovering) the folder's index: before any of its log files is opened. */
  async has(jobDir: string, batch: BatchKey): Promise<boolean> {
    return (await this.keys(jobDir)).has(keyOf(batch));
  }

  /** Records that `length` bytes of the batch go to its log file at `offset`: before writing them. */
  async begin(jobDir: string, batch: BatchKey, offset: number, length: number): Promise<void> {
    await appendFile(join(jobDir, INDEX_FILE), formatEntry({ key: keyOf(batch), logType: batch.logType, offset, length }));
  }

  /** The batch is wholly in its file. */
  async done(jobDir: string, batch: BatchKey): Promise<void> {
    (await this.keys(jobDir)).add(keyOf(batch));
    this.written.add(`${jobDir}\0${keyOf(batch)}`);
  }

  /**
   * Whether this process wrote the batch (so its runner has counted it, or holds it to count):
   * unlike one found in the index at start, written by a process that may have died before counting it.
   */
  wroteHere(jobDir: string, batch: BatchKey): boolean {
    return this.written.has(`${jobDir}\0${keyOf(batch)}`);
  }

  /** After a failed write: the folder is recovered again before its next write. */
  forget(jobDir: string): void {
    this.jobs.delete(jobDir);
  }
}
