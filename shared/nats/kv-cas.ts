import type { KV } from "@nats-io/kv";
import { readKey } from "./kv-read.js";
import { RecentValues } from "./recent-values.js";

const ATTEMPTS = 50;
/** What the server says when another writer changed (or created) the key first. */
const CONFLICT = /wrong last sequence|key exists/i;

/**
 * The values one process last wrote to some keys, with their revisions. A compare-and-set tries
 * the remembered value first and reads the key only when another writer changed it since: a key
 * mostly written by this process (a capture's record by the worker holding its task, a shard of
 * a job this worker runs) costs one request per change instead of two. Bounded: the oldest
 * entries are forgotten.
 */
export class WrittenValues extends RecentValues<{ text: string; revision: number }> {
  constructor(max = 1024) {
    super(max);
  }
}

/**
 * Read-modify-write of one KV key by compare-and-set, retried while other writers get there
 * first (or the read came from a replica that was behind). `change` receives the current JSON value (null when there is none) and returns the new
 * one, or throws to give up. A value that serialises as the current one is not written again.
 * With `written`, the value this process last wrote is tried first (a conflict, or no change to
 * it, reads the key as usual).
 */
export async function casUpdate<T>(kv: KV, key: string, change: (current: unknown) => T, written?: WrittenValues): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const known = attempt === 0 ? written?.get(key) : undefined;
    const entry = known ? null : await readKey(kv, key);
    const exists = known !== undefined || entry?.operation === "PUT";
    const currentText = known ? known.text : exists ? entry!.string() : "";
    let next: T;
    try {
      next = change(exists ? JSON.parse(currentText) : null);
    } catch (err) {
      written?.forget(key);
      throw err;
    }
    const text = JSON.stringify(next);
    if (exists && text === currentText) {
      // Unchanged from a remembered value may be stale: only the key itself can say so.
      if (known) continue;
      return next;
    }
    try {
      const revision = exists ? await kv.update(key, text, known ? known.revision : entry!.revision) : await kv.create(key, text);
      written?.set(key, { text, revision });
      return next;
    } catch (err) {
      written?.forget(key);
      if (attempt >= ATTEMPTS || !CONFLICT.test((err as Error).message)) throw err;
    }
  }
}
