import { CaptureSplitter } from "./capture-splitter.js";

/** Which shard of how many: shard `index` of a capture split `count` ways. */
export interface ShardSpec {
  index: number;
  count: number;
}

/**
 * The bytes of shard `shard.index` of a capture streamed as `source`: a capture of the same
 * format holding only that shard's packets (CaptureSplitter), produced as the source arrives.
 */
export async function* selectShard(source: AsyncIterable<Buffer>, shard: ShardSpec): AsyncGenerator<Buffer> {
  const splitter = new CaptureSplitter(shard.count, shard.index);
  for await (const chunk of source) {
    const out = splitter.push(chunk)[shard.index]!;
    if (out.length > 0) yield out;
  }
  const tail = splitter.end()[shard.index]!;
  if (tail.length > 0) yield tail;
}
