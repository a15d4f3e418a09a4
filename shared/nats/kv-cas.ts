import type { KV } from "@nats-io/kv";

const ATTEMPTS = 50;
/** What the server says when another writer changed (or created) the key first. */
const CONFLICT = /wrong last sequence|key exists/i;

/**
 * Read-modify-write of one KV key by compare-and-set, retried while other writers get there
 * first. `change` receives the current JSON value (null when there is none) and returns the new
 * one, or throws to give up. A value that serialises as the current one is not written again.
 */
export async function casUpdate<T>(kv: KV, key: string, change: (current: unknown) => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const entry = await kv.get(key);
    const exists = entry?.operation === "PUT";
    const next = change(exists ? entry.json() : null);
    const text = JSON.stringify(next);
    if (exists && text === entry.string()) return next;
    try {
      if (exists) await kv.update(key, text, entry.revision);
      else await kv.create(key, text);
      return next;
    } catch (err) {
      if (attempt >= ATTEMPTS || !CONFLICT.test((err as Error).message)) throw err;
    }
  }
}
