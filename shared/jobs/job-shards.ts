import { z } from "zod";
import { isFileFinal, type FileRecord, type FileState, type StateCounts } from "./job-record.js";

/**
 * A job's summary while it runs, split over shards so that workers on different captures update
 * different keys (`<job>.s.<k>`, capture i in shard i mod S). A shard holds one character per
 * capture (its state: the state filter's index, and what makes an update idempotent) and the
 * sums of its finished captures: lines per log type, first start, last finish.
 */
export const shardSchema = z.object({
  states: z.string(),
  lines: z.record(z.string(), z.number().int()),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type Shard = z.infer<typeof shardSchema>;

/** Captures per shard at most (beyond MAX_SHARDS shards it grows): bounds the bytes one update rewrites. */
const CAPTURES_PER_SHARD = 256;
/** At least this many shards (or one per capture): workers pulling consecutive tasks of one job never share a key. */
const MIN_SHARDS = 8;
/** At most this many: a status read of a running job reads every shard. */
const MAX_SHARDS = 64;

export function shardCount(files: number): number {
  return Math.min(files, Math.max(MIN_SHARDS, Math.min(MAX_SHARDS, Math.ceil(files / CAPTURES_PER_SHARD))));
}

const CHAR: Record<FileState, string> = { queued: "q", running: "r", done: "d", failed: "f" };
const STATE: Record<string, FileState> = { q: "queued", r: "running", d: "done", f: "failed" };

/** Where capture `index` lives: its shard and its position in that shard's `states`. */
export function shardOf(index: number, shards: number): { shard: number; position: number } {
  return { shard: index % shards, position: Math.floor(index / shards) };
}

export function emptyShard(files: number, shards: number, shard: number): Shard {
  return { states: "q".repeat(Math.ceil((files - shard) / shards)), lines: {} };
}

/**
 * Records a capture's state in its shard. A final state is never left, and a capture's lines are
 * added once, by the change that made it final: applying the same change twice changes nothing.
 * Returns null when there is nothing to change.
 */
export function applyToShard(shard: Shard, position: number, file: FileRecord): Shard | null {
  const old = STATE[shard.states[position] ?? ""];
  if (old === undefined) throw new Error(`capture ${file.index} is not in its shard`);
  if (old === file.state || isFileFinal(old)) return null;
  const next: Shard = { ...shard, states: shard.states.slice(0, position) + CHAR[file.state] + shard.states.slice(position + 1), lines: { ...shard.lines } };
  if (file.startedAt && (!next.startedAt || file.startedAt < next.startedAt)) next.startedAt = file.startedAt;
  if (isFileFinal(file.state)) {
    for (const [type, n] of Object.entries(file.lines)) next.lines[type] = (next.lines[type] ?? 0) + n;
    const at = file.finishedAt ?? new Date().toISOString();
    if (!next.finishedAt || at > next.finishedAt) next.finishedAt = at;
  }
  return next;
}

export function shardComplete(shard: Shard): boolean {
  return !/[qr]/.test(shard.states);
}

/** The job's counts, lines and times from all its shards. */
export function sumShards(shards: readonly Shard[]): { counts: StateCounts; lines: Record<string, number>; startedAt?: string; finishedAt?: string } {
  const counts: StateCounts = { total: 0, queued: 0, running: 0, done: 0, failed: 0 };
  const lines: Record<string, number> = {};
  let startedAt: string | undefined;
  let finishedAt: string | undefined;
  for (const s of shards) {
    for (const c of s.states) counts[STATE[c]!]++;
    counts.total += s.states.length;
    for (const [type, n] of Object.entries(s.lines)) lines[type] = (lines[type] ?? 0) + n;
    if (s.startedAt && (!startedAt || s.startedAt < startedAt)) startedAt = s.startedAt;
    if (s.finishedAt && (!finishedAt || s.finishedAt > finishedAt)) finishedAt = s.finishedAt;
  }
  return { counts, lines, ...(startedAt ? { startedAt } : {}), ...(finishedAt ? { finishedAt } : {}) };
}

/** Indexes of the captures whose state is in `states`, ascending, from `from` on. */
export function indexesInStates(shards: readonly Shard[], states: ReadonlySet<FileState>, from = 0): number[] {
  const out: number[] = [];
  shards.forEach((s, k) => {
    for (let p = 0; p < s.states.length; p++) {
      const index = p * shards.length + k;
      if (index >= from && states.has(STATE[s.states[p]!]!)) out.push(index);
    }
  });
  return out.sort((a, b) => a - b);
}
