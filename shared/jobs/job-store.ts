import type { KV } from "@nats-io/kv";
import type { z } from "zod";
import { BrocapiError, ErrorCodes } from "../errors.js";
import { casUpdate, WrittenValues } from "../nats/kv-cas.js";
import { readKey } from "../nats/kv-read.js";
import { RecentValues } from "../nats/recent-values.js";
import type { Topology } from "../nats/topology.js";
import { JobIndex } from "./job-index.js";
import {
  deriveJobState,
  fileRecordSchema,
  isFileFinal,
  isFinal,
  jobHeaderSchema,
  legacyJobRecordSchema,
  type FileRecord,
  type JobHeader,
  type JobState,
  type StateCounts,
} from "./job-record.js";
import { applyToShard, emptyShard, shardComplete, shardCount, shardOf, shardSchema, sumShards, type Shard } from "./job-shards.js";
import { JOB_ID_PATTERN } from "./job-id.js";
import { inWindows } from "../concurrency/in-windows.js";

export const captureKey = (jobId: string, index: number): string => `${jobId}.c.${index}`;
export const shardKey = (jobId: string, shard: number): string => `${jobId}.s.${shard}`;
/** Final capture records an api keeps in memory (about 500 bytes each): a few pages of many jobs. */
const FINAL_CAPTURES_KEPT = 4096;
/** KV writes of one submission in flight at once. */
const WRITE_WINDOW = 256;

/** A job's summary: the header, and its counts, lines, state and times (from the shards while it runs; `finishedAt` only once final). */
export interface JobSummary {
  header: JobHeader;
  state: JobState;
  counts: StateCounts;
  lines: Record<string, number>;
  startedAt?: string;
  finishedAt?: string;
}

const notFound = (jobId: string, what: string): BrocapiError =>
  // Permanent: the job was deleted (or never existed), so a task of it has nothing left to do.
  new BrocapiError(ErrorCodes.JOB_NOT_FOUND, `job ${jobId} has no ${what}`, { permanent: true, httpStatus: 404 });

// Still imported from here by services/worker/worker.ts and shared/sharding/shard-store.ts.
export { inWindows };

const ignoreExists = (err: unknown): void => {
  if (!/key exists|wrong last sequence/i.test((err as Error).message)) throw err;
};

/**
 * Job records in the jobs KV bucket, one key per capture plus a header and a few shards per job
 * (docs/ARCHITECTURE.md, "Job records"). Every change to a capture is a compare-and-set of its
 * own key and of its shard: a constant amount of work, whatever the number of captures.
 */
export class JobStore {
  private readonly kv: KV;
  readonly index: JobIndex;
  /** Capture and shard values this process wrote: its next change to them skips reading them. */
  private readonly written = new WrittenValues();
  /**
   * Final captures read lately. A final capture never changes again, so a status read of a
   * finished job (its first page of captures) costs what one of a 1-capture job does; a
   * deleted job is seen at its header, read every time.
   */
  private readonly finalCaptures = new RecentValues<FileRecord>(FINAL_CAPTURES_KEPT);

  /** `removesMarkers`: see JobIndex (false in a worker). */
  constructor(
    private readonly topology: Pick<Topology, "jobs" | "jsm" | "names">,
    { removesMarkers = true }: { removesMarkers?: boolean } = {},
  ) {
    this.kv = topology.jobs;
    this.index = new JobIndex(topology.jsm.jetstream(), topology.jsm, topology.names, removesMarkers);
  }

  /**
   * Writes a job given whole, as the previous layout kept it, and converts it at once: for
   * records made outside a submission (tests, imports). Listed like any job.
   */
  async create(job: z.input<typeof legacyJobRecordSchema>): Promise<void> {
    await this.kv.create(job.id, JSON.stringify(legacyJobRecordSchema.parse(job)));
    await this.header(job.id);
  }

  /** The captures and shards of a new job; its header (`createHeader`) comes once its tasks are queued. */
  async createCaptures(jobId: string, files: readonly FileRecord[]): Promise<void> {
    const shards = shardCount(files.length);
    await inWindows(files, WRITE_WINDOW, (f) => this.kv.create(captureKey(jobId, f.index), JSON.stringify(f)));
    await inWindows([...Array(shards).keys()], WRITE_WINDOW, (k) => this.kv.create(shardKey(jobId, k), JSON.stringify(emptyShard(files.length, shards, k))));
  }

  async createHeader(header: JobHeader): Promise<void> {
    await this.kv.create(header.id, JSON.stringify(header));
  }

  /** The header, or null; a record in the previous layout is migrated first. */
  async header(jobId: string): Promise<JobHeader | null> {
    const entry = await readKey(this.kv, jobId);
    if (!entry || entry.operation !== "PUT") return null;
    const raw = entry.json() as { layout?: number };
    if (raw.layout === 2) return jobHeaderSchema.parse(raw);
    await this.migrate(entry.json(), entry.revision);
    return this.header(jobId);
  }

  async capture(jobId: string, index: number): Promise<FileRecord | null> {
    const key = captureKey(jobId, index);
    const known = this.finalCaptures.get(key);
    if (known) return known;
    const entry = await readKey(this.kv, key);
    if (entry?.operation !== "PUT") return null;
    const file = fileRecordSchema.parse(entry.json());
    if (isFileFinal(file.state)) this.finalCaptures.set(key, file);
    return file;
  }

  /** The captures at `indexes` (missing ones left out), read in parallel. */
  async captures(jobId: string, indexes: readonly number[]): Promise<FileRecord[]> {
    const found = await inWindows(indexes, WRITE_WINDOW, (i) => this.capture(jobId, i));
    return found.filter((f): f is FileRecord => f !== null);
  }

  async shards(header: Pick<JobHeader, "id" | "shards">): Promise<Shard[]> {
    return Promise.all(
      Array.from({ length: header.shards }, async (_, k) => {
        const entry = await readKey(this.kv, shardKey(header.id, k));
        if (entry?.operation !== "PUT") throw notFound(header.id, `shard ${k}`);
        return shardSchema.parse(entry.json());
      }),
    );
  }

  /** The summary: from the header alone once the job is final, else from the header and its shards. */
  async summary(jobId: string): Promise<JobSummary | null> {
    const header = await this.header(jobId);
    if (!header) return null;
    return this.summarise(header);
  }

  /** The summary of the job `header` is the header of: its own once final, else its shards' sum. */
  async summarise(header: JobHeader): Promise<JobSummary> {
    if (isFinal(header.state) && header.counts && header.lines) {
      return { header, state: header.state, counts: header.counts, lines: header.lines, ...times(header) };
    }
    const sum = sumShards(await this.shards(header));
    const state = deriveJobState(sum.counts);
    // The shards' finish is their captures' latest: the job's only once every capture is final.
    // Before that, a finish time would make a running job look ended (and its duration a lie).
    return { header, state, counts: sum.counts, lines: sum.lines, ...times(isFinal(state) ? sum : { startedAt: sum.startedAt }) };
  }

  /**
   * Applies `change` to capture `index` and records its new state in its shard. A final capture
   * stays final: `change` is then not applied (`wasFinal`), but the shard is still brought up to
   * date, so a retry after a crash between the two writes completes them. The change that makes
   * the last capture final also ends the job (`finishedNow`, for exactly one caller).
   * `files` is the job's capture count when the caller knows it (tasks carry it). `changed` runs
   * once the capture's new state is written, before its shard is: whoever ends the job (this
   * call, or the reconciler finding the shards complete) can only do so after it, so what
   * `changed` publishes is stored ahead of `job.finished`. `recorded` is called once capture and
   * shard are written, before the job's header is (a worker acks there: what is left is the
   * job's, and the reconciler finishes it if this process does not).
   */
  async updateCapture(
    jobId: string,
    index: number,
    change: (file: FileRecord) => void,
    opts: { files?: number; changed?: (file: FileRecord) => Promise<void>; recorded?: () => void | Promise<void> } = {},
  ): Promise<{ file: FileRecord; wasFinal: boolean; finishedNow: boolean; summary: JobSummary | null }> {
    const count = opts.files ?? (await this.header(jobId))?.files;
    if (count === undefined) throw notFound(jobId, "record");
    let wasFinal = false;
    const file = await casUpdate(this.kv, captureKey(jobId, index), (current) => {
      if (current === null) throw notFound(jobId, `record of capture ${index}`);
      const f = fileRecordSchema.parse(current);
      wasFinal = isFileFinal(f.state);
      if (!wasFinal) change(f);
      return f;
    }, this.written);
    if (!wasFinal) await opts.changed?.(file);
    return { file, wasFinal, ...(await this.record(jobId, count, file, opts.recorded)) };
  }

  /** Brings a capture's shard up to date with the capture, then the header when its shard changed the job. */
  async record(jobId: string, files: number, file: FileRecord, recorded?: () => void | Promise<void>): Promise<{ finishedNow: boolean; summary: JobSummary | null }> {
    const { shard, position } = shardOf(file.index, shardCount(files));
    let firstStart = false;
    const updated = await casUpdate(this.kv, shardKey(jobId, shard), (current) => {
      if (current === null) throw notFound(jobId, `shard ${shard}`);
      const s = shardSchema.parse(current);
      const next = applyToShard(s, position, file);
      firstStart = next !== null && !s.startedAt && next.startedAt !== undefined;
      return next ?? s;
    }, this.written);
    await recorded?.();
    // A shard's first start may be the job's; its completion may be the job's end. Otherwise the
    // header is left alone: at most a few header writes per shard, not one per capture.
    if (firstStart || shardComplete(updated)) return this.refresh(jobId);
    return { finishedNow: false, summary: null };
  }

  /**
   * Re-derives the job's state from its shards and writes it to the header when it moved on:
   * `running` once a capture started, and the final state with counts, lines and times once
   * every capture is final. `finishedNow` is true for the one call whose write ended the job.
   */
  async refresh(jobId: string): Promise<{ finishedNow: boolean; summary: JobSummary | null }> {
    const header = await this.header(jobId);
    if (!header) return { finishedNow: false, summary: null };
    const summary = await this.summarise(header);
    if (summary.state === header.state || summary.state === "queued") return { finishedNow: false, summary };
    let finishedNow = false;
    const written = await casUpdate(this.kv, jobId, (current) => {
      if (current === null) throw notFound(jobId, "record");
      const h = jobHeaderSchema.parse(current);
      if (isFinal(h.state)) return h;
      finishedNow = isFinal(summary.state);
      const startedAt = h.startedAt ?? summary.startedAt ?? new Date().toISOString();
      if (!finishedNow) return { ...h, state: summary.state, startedAt };
      return { ...h, state: summary.state, startedAt, finishedAt: summary.finishedAt ?? new Date().toISOString(), counts: summary.counts, lines: summary.lines };
    });
    return { finishedNow, summary: { ...summary, header: written, ...times(written) } };
  }

  /** Removes every key of a job: header, captures and shards. */
  async purge(jobId: string): Promise<void> {
    const stream = `KV_${this.topology.names.jobsBucket}`;
    const subject = `$KV.${this.topology.names.jobsBucket}.${jobId}`;
    await this.topology.jsm.streams.purge(stream, { filter: subject });
    await this.topology.jsm.streams.purge(stream, { filter: `${subject}.>` });
  }

  /**
   * Converts a job kept in the previous layout (one value with every capture) into the current
   * one: capture keys and shards first (kept if they exist: a concurrent migration wrote the
   * same), then the header in place of the old value by compare-and-set, so exactly one
   * migration adds the job to the index.
   */
  private async migrate(raw: unknown, revision: number): Promise<void> {
    const legacy = legacyJobRecordSchema.parse(raw);
    const files = legacy.files.length;
    const shards = Array.from({ length: shardCount(files) }, (_, k) => emptyShard(files, shardCount(files), k));
    for (const f of legacy.files) {
      const { shard, position } = shardOf(f.index, shards.length);
      if (f.state !== "queued") shards[shard] = applyToShard(shards[shard]!, position, f) ?? shards[shard]!;
    }
    await inWindows(legacy.files, WRITE_WINDOW, (f) => this.kv.create(captureKey(legacy.id, f.index), JSON.stringify(f)).catch(ignoreExists));
    await inWindows([...shards.entries()], WRITE_WINDOW, ([k, s]) => this.kv.create(shardKey(legacy.id, k), JSON.stringify(s)).catch(ignoreExists));
    const sum = sumShards(shards);
    const header: JobHeader = {
      layout: 2,
      id: legacy.id,
      tag: legacy.tag,
      state: legacy.state,
      format: legacy.format,
      submittedAt: legacy.submittedAt,
      ...(legacy.startedAt ? { startedAt: legacy.startedAt } : {}),
      ...(legacy.finishedAt ? { finishedAt: legacy.finishedAt } : {}),
      files,
      shards: shards.length,
      ...(isFinal(legacy.state) ? { counts: sum.counts, lines: sum.lines } : {}),
    };
    try {
      await this.kv.update(legacy.id, JSON.stringify(header), revision);
    } catch (err) {
      ignoreExists(err);
      return;
    }
    await this.index.add(legacy.id);
    if (!isFinal(legacy.state)) await this.index.markActive(legacy.id);
  }

  /**
   * At start-up: migrates every job record still in the previous layout, oldest first (so the
   * index lists them in submission order), then marks the bucket as converted so later
   * start-ups skip the scan. Safe to run in several apis at once. Returns the jobs converted.
   */
  async migrateLegacyJobs(): Promise<number> {
    if (await this.index.converted()) return 0;
    const ids: string[] = [];
    for await (const key of await this.kv.keys()) if (JOB_ID_PATTERN.test(key)) ids.push(key);
    let converted = 0;
    for (const id of ids.sort()) {
      const entry = await this.kv.get(id);
      if (entry?.operation !== "PUT" || (entry.json() as { layout?: number }).layout === 2) continue;
      await this.migrate(entry.json(), entry.revision);
      converted++;
    }
    await this.index.markConverted();
    return converted;
  }
}

function times(t: { startedAt?: string | undefined; finishedAt?: string | undefined }): { startedAt?: string; finishedAt?: string } {
  return { ...(t.startedAt ? { startedAt: t.startedAt } : {}), ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}) };
}
