import { Bucket, type KV, type KvEntry } from "@nats-io/kv";

/** Per bucket handle, the same bucket read through its stream's leader. */
const leaderViews = new WeakMap<Bucket, Bucket>();

/**
 * The bucket read through the stream leader (a JetStream `STREAM.MSG.GET`), or null when reads
 * already go there. The view shares everything with `kv` but its `direct` flag.
 */
function leaderView(kv: KV): KV | null {
  if (!(kv instanceof Bucket) || !kv.direct) return null;
  let view = leaderViews.get(kv);
  if (!view) {
    view = Object.create(kv) as Bucket;
    view.direct = false;
    leaderViews.set(kv, view);
  }
  return view;
}

/**
 * A key's entry, where "no such key" is the stream leader's answer. Buckets answer reads from any
 * replica (direct gets), and on an R3 bucket a replica may lack a write that was already
 * acknowledged: by milliseconds after any write (two of three stored it), by seconds after a node
 * came back. A stale value costs nothing where a compare-and-set follows (the server refuses the
 * old revision), but an absent key is taken as a decision — a job deleted, a task dropped, a
 * capture swept — so a miss is read again from the leader. Hits stay direct reads.
 */
export async function readKey(kv: KV, key: string): Promise<KvEntry | null> {
  const entry = await kv.get(key);
  if (entry?.operation === "PUT") return entry;
  const leader = leaderView(kv);
  return leader ? leader.get(key) : entry;
}

/**
 * A key's entry as the stream leader holds it: for a decision taken on a value being current
 * (a count that only grows, read as too low, starts a repair), where a replica's older value
 * would mislead and no compare-and-set follows to catch it.
 */
export function readKeyFromLeader(kv: KV, key: string): Promise<KvEntry | null> {
  return (leaderView(kv) ?? kv).get(key);
}
