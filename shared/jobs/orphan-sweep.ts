import { readKey } from "../nats/kv-read.js";
import type { Topology } from "../nats/topology.js";

export interface SweepResult {
  /** Whole captures whose job record never came to be (the api died after storing them). */
  objects: number;
  /** Chunk sets of uploads that never finished (the api died mid-upload), invisible to `list()`. */
  partialUploads: number;
}

/**
 * Removes what interrupted submissions left in the PCAP object store. A capture is an orphan when
 * no job record names it and it is older than `graceMs`; chunks no object's metadata refers to are
 * an unfinished upload once their newest chunk is older than `graceMs`. The grace is the upload
 * time limit, so nothing still arriving is touched.
 */
export async function sweepOrphans(topology: Topology, graceMs: number, now = Date.now()): Promise<SweepResult> {
  const { pcaps, jobs, jsm, names } = topology;
  const cutoff = now - graceMs;
  const result: SweepResult = { objects: 0, partialUploads: 0 };
  const objects = await pcaps.list();
  for (const info of objects) {
    if (info.deleted || Date.parse(info.mtime) > cutoff) continue;
    const jobId = info.name.split("/")[0]!;
    const entry = await readKey(jobs, jobId);
    if (entry?.operation === "PUT") continue;
    await pcaps.delete(info.name);
    result.objects++;
  }
  const stream = `OBJ_${names.pcapsBucket}`;
  const chunkPrefix = `$O.${names.pcapsBucket}.C.`;
  const referenced = new Set(objects.map((o) => `${chunkPrefix}${o.nuid}`));
  const si = await jsm.streams.info(stream, { subjects_filter: `${chunkPrefix}>` });
  for (const subject of Object.keys(si.state.subjects ?? {})) {
    if (referenced.has(subject)) continue;
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (!last || last.time.getTime() > cutoff) continue;
    await jsm.streams.purge(stream, { filter: subject });
    result.partialUploads++;
  }
  return result;
}
