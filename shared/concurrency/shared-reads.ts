import { RecentValues } from "../nats/recent-values.js";

/**
 * Reads shared by the callers asking for the same key within `maxAgeMs` of a read's start: the
 * first caller reads, and every caller until then gets that read's answer, in flight or done.
 * An answer is therefore at most `maxAgeMs` older than the request it answers. A failed read is
 * forgotten at once (the next caller reads again). At most `max` keys are kept, the ones read
 * latest; 0 ms shares nothing (every call reads).
 */
export class SharedReads<V> {
  private readonly reads: RecentValues<{ startedAt: number; value: Promise<V> }>;

  constructor(
    private readonly maxAgeMs: number,
    max: number,
  ) {
    this.reads = new RecentValues(max);
  }

  get(key: string, read: () => Promise<V>): Promise<V> {
    if (this.maxAgeMs === 0) return read();
    const now = performance.now();
    const known = this.reads.get(key);
    if (known && now - known.startedAt < this.maxAgeMs) return known.value;
    const entry = { startedAt: now, value: read() };
    this.reads.set(key, entry);
    entry.value.catch(() => {
      if (this.reads.get(key) === entry) this.reads.forget(key);
    });
    return entry.value;
  }
}
