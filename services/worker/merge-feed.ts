import type { Writable } from "node:stream";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";
import type { FileRecord } from "../../shared/jobs/job-record.js";
import type { Bucket } from "../../shared/objects/object-layout.js";
import { mergeCaptures, type MergeSource, type MergeStats } from "../../shared/pcap/merge-captures.js";
import { UnreadableCapture } from "../../shared/pcap/packet-reader.js";
import { selectShard } from "../../shared/pcap/shard-filter.js";
import { FETCH_STALL_MS, openCapture, withinStall, type Fed, type FeedOptions } from "./capture-feed.js";

/** A capture of the recording, read from the object store; a stall is a transient failure, as for one capture. */
function source(bucket: Bucket, capture: Pick<FileRecord, "name" | "object">, stallMs: number): MergeSource {
  return {
    name: capture.name,
    async open() {
      const read = await openCapture(bucket, capture.object, `${capture.name} (${capture.object})`);
      return {
        next: () => withinStall(read.data.next(), stallMs, capture.object),
        return: async () => {
          // Not awaited: after a stall its pending step may never settle (the consumer then expires on the server).
          void read.data.return(undefined).catch(() => undefined);
          return { done: true as const, value: undefined };
        },
      };
    },
  };
}

/**
 * Merge mode: streams every capture of the job, k-way merged by packet time (mergeCaptures),
 * into `input` (Zeek's stdin) as one pcap. A capture that cannot be merged fails the job's
 * analysis for good (`BROCAPI_MERGE_UNREADABLE`, naming it); a last record cut short is left out
 * and reported as `salvaged` (summed over the captures), or, without salvage, fails it as well.
 * A shard of the recording (`opts.shard`) gets only its packets of the merged stream, as a shard
 * of one capture does of that capture (capture-feed.ts).
 */
export async function feedMerged(bucket: Bucket, captures: readonly Pick<FileRecord, "name" | "object">[], input: Writable, stop: AbortSignal, opts: FeedOptions): Promise<Fed> {
  const stallMs = opts.stallMs ?? FETCH_STALL_MS;
  const stats: MergeStats = { packets: [], bytesDropped: [] };
  const fed: Fed = { bytes: 0, salvaged: null };
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of mergeCaptures(captures.map((c) => source(bucket, c, stallMs)), stats)) {
      fed.bytes += chunk.length;
      yield chunk;
    }
  }
  try {
    await pipeline(Readable.from(opts.shard ? selectShard(counted(), opts.shard) : counted()), input, { signal: stop });
  } catch (err) {
    if (err instanceof UnreadableCapture) throw new BrocapiError(ErrorCodes.MERGE_UNREADABLE, err.message, { permanent: true });
    throw err;
  }
  const dropped = stats.bytesDropped.reduce((a, b) => a + b, 0);
  if (dropped > 0) {
    const cut = captures.filter((_, i) => stats.bytesDropped[i]! > 0).map((c) => c.name);
    if (!opts.salvage) throw new BrocapiError(ErrorCodes.MERGE_UNREADABLE, `${cut.join(", ")} ${cut.length === 1 ? "is" : "are"} cut off mid-packet (worker.salvageTruncated is off)`, { permanent: true });
    fed.salvaged = { bytesKept: fed.bytes, packetsKept: stats.packets.reduce((a, b) => a + b, 0), bytesDropped: dropped };
  }
  return fed;
}
