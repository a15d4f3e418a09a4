import type { KV } from "@nats-io/kv";
import { BrocapiError, ErrorCodes } from "../errors.js";
import { fileRecordSchema, isFileFinal, type AnalysedBy, type FileRecord } from "../jobs/job-record.js";
import { captureKey, inWindows, type JobStore } from "../jobs/job-store.js";
import type { ShardSpec } from "../pcap/shard-filter.js";
import { casUpdate } from "../nats/kv-cas.js";
import { readKey } from "../nats/kv-read.js";
import { fromParts, toParts, type HostLogs } from "./host-logs.js";
import { hostLinesKey, isFinalChar, shardRecordKey, shardRecordSchema, stateChar, type Outcome, type ShardRecord } from "./shard-record.js";

/** A KV value must fit one NATS message (1 MiB by default): per-host lines are kept in parts well below. */
const PART_CHARS = 256 * 1024;

/** Which capture and which shard of it. */
export interface ShardRef {
  jobId: string;
  fileIndex: number;
  shard: ShardSpec;
  /** Captures in the job (tasks carry it). */
  files?: number | undefined;
}

/** Permanent: the job was deleted (or never existed), so a shard's task has nothing left to do. */
export const gone = (jobId: string, fileIndex: number): BrocapiError =>
  new BrocapiError(ErrorCodes.JOB_NOT_FOUND, `job ${jobId} has no record of capture ${fileIndex}`, { permanent: true, httpStatus: 404 });

const fresh = (ref: ShardRef): ShardRecord => ({ index: ref.shard.index, count: ref.shard.count, state: "queued", attempts: 0, lines: {}, hostParts: 0 });

const withChar = (states: string, at: number, c: string): string => states.slice(0, at) + c + states.slice(at + 1);

/**
 * The records of a sharded capture (docs/SHARDING.md): one key per shard, written by the worker
 * holding that shard's task, and the shard's state character and lines in the capture's own key.
 * Each update is a compare-and-set of the shard's key and of the capture's: constant work per
 * shard, whatever the number of shards or captures. A shard's final state is never left, and
 * its lines are added to the capture's once, by the change that made its character final. The
 * shard's own record is the truth: the capture's copy is brought up to date from it
 * (`settleCapture`), also when an earlier update of the capture was lost.
 */
export class ShardStore {
  constructor(
    private readonly kv: KV,
    private readonly jobs: JobStore,
  ) {}

  async shard(ref: ShardRef): Promise<ShardRecord> {
    const entry = await this.kv.get(shardRecordKey(ref.jobId, ref.fileIndex, ref.shard.index));
    return entry?.operation === "PUT" ? shardRecordSchema.parse(entry.json()) : fresh(ref);
  }

  /** Every shard of a capture (a shard never started reads as queued). */
  async shards(jobId: string, fileIndex: number, count: number): Promise<ShardRecord[]> {
    return inWindows([...Array(count).keys()], 64, (index) => this.shard({ jobId, fileIndex, shard: { index, count } }));
  }

  /**
   * A shard's attempt starts: the shard `running`, and the capture (`running` if it was queued:
   * `captureStarted`). `final` when the shard or the capture already ended: nothing to run.
   */
  async start(ref: ShardRef, attempt: number, analysedBy: AnalysedBy, startedAt: string): Promise<{ final: boolean; captureStarted: boolean }> {
    let shardFinal = false;
    await casUpdate(this.kv, shardRecordKey(ref.jobId, ref.fileIndex, ref.shard.index), (current) => {
      const r = current === null ? fresh(ref) : shardRecordSchema.parse(current);
      shardFinal = isFileFinal(r.state);
      if (!shardFinal) Object.assign(r, { state: "running", attempts: attempt, startedAt, analysedBy });
      return r;
    });
    if (shardFinal) return { final: true, captureStarted: false };
    let captureStarted = false;
    const { wasFinal } = await this.jobs.updateCapture(
      ref.jobId,
      ref.fileIndex,
      (f) => {
        captureStarted = f.state === "queued";
        f.state = "running";
        f.startedAt ??= startedAt;
        f.attempts = Math.max(f.attempts, attempt);
        f.analysedBy = analysedBy;
        if (f.shards && !isFinalChar(f.shards.states[ref.shard.index])) f.shards.states = withChar(f.shards.states, ref.shard.index, stateChar("running"));
      },
      { files: ref.files },
    );
    return { final: wasFinal, captureStarted };
  }

  /**
   * A shard's key and parts are written only while its capture's key exists: a job deleted (its
   * keys purged) while a shard ran would otherwise get its shard keys back, left in the bucket with
   * nothing to remove them. (A deletion between this read and the write can still leave one.)
   */
  private async ensureCapture(ref: ShardRef): Promise<void> {
    // A replica behind may not have the key yet: a miss is confirmed by the stream leader.
    const entry = await readKey(this.kv, captureKey(ref.jobId, ref.fileIndex));
    if (!entry) throw gone(ref.jobId, ref.fileIndex);
  }

  /** Keeps a shard's per-host log lines until the capture's are merged; returns the parts written. */
  private async keepHostLogs(ref: ShardRef, logs: HostLogs): Promise<number> {
    const parts = toParts(logs, PART_CHARS);
    await Promise.all(parts.map((p, i) => this.kv.put(hostLinesKey(ref.jobId, ref.fileIndex, ref.shard.index, i), p)));
    return parts.length;
  }

  async hostLogs(jobId: string, fileIndex: number, shard: ShardRecord): Promise<HostLogs> {
    const parts = await inWindows([...Array(shard.hostParts).keys()], 64, async (i) => {
      const entry = await this.kv.get(hostLinesKey(jobId, fileIndex, shard.index, i));
      if (entry?.operation !== "PUT") throw new BrocapiError(ErrorCodes.JOB_NOT_FOUND, `per-host lines of shard ${shard.index} of capture ${fileIndex} are gone`, { permanent: true });
      return entry.string();
    });
    return fromParts(parts);
  }

  /** Removes a shard's kept per-host lines once the capture's are merged and recorded. */
  async dropHostLogs(jobId: string, fileIndex: number, shard: ShardRecord): Promise<void> {
    await Promise.all(Array.from({ length: shard.hostParts }, (_, i) => this.kv.purge(hostLinesKey(jobId, fileIndex, shard.index, i)).catch(() => undefined)));
  }

  /**
   * A shard's attempt ended: its per-host lines (`hostLogs`, kept until the capture's are merged)
   * are written, then `change` is applied to the shard's own record unless it is final already,
   * with the number of parts kept. Returns the record. The capture learns of it from
   * `settleCapture`. A deleted job's shard writes nothing: `gone` (permanent), from one read of
   * the capture's key for both writes.
   */
  async finish(ref: ShardRef, change: (o: Outcome & { hostParts: number }) => void, hostLogs?: HostLogs): Promise<ShardRecord> {
    await this.ensureCapture(ref);
    const hostParts = hostLogs && Object.keys(hostLogs).length > 0 ? await this.keepHostLogs(ref, hostLogs) : 0;
    return casUpdate(this.kv, shardRecordKey(ref.jobId, ref.fileIndex, ref.shard.index), (current) => {
      const r = current === null ? fresh(ref) : shardRecordSchema.parse(current);
      if (!isFileFinal(r.state)) {
        change(r);
        r.hostParts = hostParts;
      }
      return r;
    });
  }

  /**
   * Gives the capture each final shard's state character and lines, once: a shard whose character
   * is final already is not added again, so this may be repeated with the same records. A
   * conflict reads the capture again (compare-and-set). Returns the capture.
   */
  async record(jobId: string, fileIndex: number, records: readonly ShardRecord[]): Promise<FileRecord> {
    return casUpdate(this.kv, captureKey(jobId, fileIndex), (current) => {
      if (current === null) throw gone(jobId, fileIndex);
      const f = fileRecordSchema.parse(current);
      if (isFileFinal(f.state) || !f.shards) return f;
      for (const shard of records) {
        if (!isFileFinal(shard.state) || isFinalChar(f.shards.states[shard.index])) continue;
        f.shards.states = withChar(f.shards.states, shard.index, stateChar(shard.state));
        for (const [type, n] of Object.entries(shard.lines)) f.lines[type] = (f.lines[type] ?? 0) + n;
      }
      return f;
    });
  }
}
