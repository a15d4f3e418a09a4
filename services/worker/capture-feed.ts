import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";
import { getObject, type ObjectRead } from "../../shared/objects/get-object.js";
import type { Bucket } from "../../shared/objects/object-layout.js";
import { WholePackets, type Salvage } from "../../shared/pcap/whole-packets.js";
import { selectShard, type ShardSpec } from "../../shared/pcap/shard-filter.js";

/**
 * No chunk of a capture for this long means the read is stuck: the object store's reader does not
 * always resume after nats-server restarts in the middle of it, and the task's heartbeat would
 * keep it from ever going to another worker. A healthy server sends a chunk in milliseconds.
 * Only waits for the store count: while Zeek is busy and not reading, nothing is asked of it.
 */
export const FETCH_STALL_MS = 10_000;

export interface FeedOptions {
  /** Trim a capture cut mid-packet to its last whole packet (`worker.salvageTruncated`). */
  salvage: boolean;
  stallMs?: number;
  /** Feed only this shard's packets (docs/SHARDING.md): the capture is read whole and filtered. */
  shard?: ShardSpec | undefined;
}

export interface Fed {
  /** Bytes read from the object store. */
  bytes: number;
  /** Set when the capture was cut mid-packet and Zeek was given only its whole packets. */
  salvaged: Salvage | null;
}

/** `promise`, unless nothing arrives for `ms`: then a transient broker error naming the capture. */
export async function withinStall<T>(promise: Promise<T>, ms: number, object: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrocapiError(ErrorCodes.BROKER_UNAVAILABLE, `reading capture ${object} from the object store stalled for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Streams a capture from the object store into `input` (Zeek's stdin), never holding more than
 * the read's flow-control window and one partial packet, and never writing it to disk. With
 * `salvage`, a capture cut mid-packet loses only the cut packet's bytes (see WholePackets).
 * Rejects with PCAP_MISSING (permanent) when the object is gone, with a transient error when
 * the read breaks off, stalls or fails its digest check; `stop` ends it quietly.
 */
export async function feedCapture(bucket: Bucket, object: string, input: Writable, stop: AbortSignal, opts: FeedOptions): Promise<Fed> {
  return feedObject(await openCapture(bucket, object), object, input, stop, opts);
}

/** A capture's object, open for reading; PCAP_MISSING (permanent) naming it as `shown` when it is gone. */
export async function openCapture(bucket: Bucket, object: string, shown = object): Promise<ObjectRead> {
  const read = await getObject(bucket, object);
  if (!read) throw new BrocapiError(ErrorCodes.PCAP_MISSING, `capture ${shown} is no longer in the object store (deleted or expired)`, { permanent: true });
  return read;
}

/** feedCapture once the object is open. */
export async function feedObject(read: Pick<ObjectRead, "data">, object: string, input: Writable, stop: AbortSignal, opts: FeedOptions): Promise<Fed> {
  const stallMs = opts.stallMs ?? FETCH_STALL_MS;
  const trim = opts.salvage ? new WholePackets() : null;
  const fed: Fed = { bytes: 0, salvaged: null };
  async function* bytes(): AsyncGenerator<Buffer> {
    for (;;) {
      const step = await withinStall(read.data.next(), stallMs, object);
      if (step.done) break;
      fed.bytes += step.value.length;
      const pass = trim ? trim.push(step.value) : step.value;
      if (pass.length > 0) yield pass;
    }
    if (!trim) return;
    const end = trim.end();
    fed.salvaged = end.salvage;
    if (end.tail.length > 0) yield end.tail;
  }
  try {
    // The shard filter comes after salvage: every shard sees the same whole packets.
    await pipeline(Readable.from(opts.shard ? selectShard(bytes(), opts.shard) : bytes()), input, { signal: stop });
  } finally {
    // Ends the object read (and frees its consumer) when the pipeline stopped early; not awaited:
    // after a stall its pending step may never settle (the consumer then expires on the server).
    void read.data.return(undefined).catch(() => undefined);
  }
  return fed;
}
