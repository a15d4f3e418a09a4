import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { ServiceContext } from "../../shared/service/context.js";
import type { Task } from "../../shared/messages/task.js";
import type { Salvage } from "../../shared/pcap/whole-packets.js";
import { runZeek } from "../../shared/zeek/run-zeek.js";
import type { Config } from "../../shared/config/schema.js";
import { DEFAULT_PROFILE, type ZeekProfile } from "../../shared/config/zeek-profile.js";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";
import { feedCapture } from "./capture-feed.js";
import { feedMerged } from "./merge-feed.js";
import type { FileRecord } from "../../shared/jobs/job-record.js";
import { publishLogs } from "./publish-logs.js";
import { analysisKey, findAnalysis, recordAnalysis, republishAnalysis } from "./reuse.js";
import { PER_HOST_LOGS, type HostLogs } from "../../shared/sharding/host-logs.js";

const PER_HOST = new Set(PER_HOST_LOGS.keys());

export interface ZeekInstall {
  bin: string;
  /** `zeek --version`: an analysis is reused only from the same Zeek. */
  version: string;
}

/** What every task of one worker shares, set up once at start. */
export interface WorkerSetup {
  zeek: ZeekInstall;
  js: JetStreamClient;
  /** Log types never published: the seed's fixed list plus the configured blacklist. */
  skipped: ReadonlySet<string>;
}

export interface Analysis {
  lines: Record<string, number>;
  zeekStderr: string;
  zeekMs: number;
  /** Set when the capture was cut mid-packet and Zeek analysed its whole packets. */
  salvaged?: Salvage;
  reusedFrom?: { jobId: string; fileIndex: number };
  /** A shard's per-host logs, not published: merged with the other shards' when all are done. */
  hostLogs?: HostLogs;
}

/**
 * The scripts and options of a job's profile, from this worker's own allow-list: a task carries
 * only the name, so nothing in a message reaches Zeek's command line. A name this worker does
 * not know (its config differs from the api's) fails the capture: no other worker with the same
 * config would know it either.
 */
export function jobProfile(config: Config, name: string | undefined): ZeekProfile {
  const chosen = name ?? DEFAULT_PROFILE;
  if (!Object.hasOwn(config.zeek.profiles, chosen)) {
    throw new BrocapiError(ErrorCodes.PROFILE_UNKNOWN, `this worker has no analysis profile ${JSON.stringify(chosen)} (zeek.profiles holds ${Object.keys(config.zeek.profiles).join(", ")}): configure the api and the workers alike`, { permanent: true });
  }
  return config.zeek.profiles[chosen]!;
}

/**
 * One capture, start to end. When reuse is on and the same capture was analysed before with the
 * same Zeek, scripts and format, its logs are re-published for this job instead. Otherwise:
 * run Zeek in a private, empty temp folder (so concurrent runs never share logs, the seed's
 * bug) with the capture streamed from the object store into its stdin (no local copy: a worker
 * analyses captures bigger than its disk, and Zeek starts on the first bytes), publish its logs,
 * and remove the folder whatever happened.
 *
 * Two kinds of task give Zeek other packets than one whole capture's, so their logs are neither
 * reused nor recorded for reuse: the reuse key names one whole capture, and its logs would not
 * be theirs.
 * - Merge mode (`task.merge`, with `recording` = every capture of the job): Zeek reads all of
 *   them as one capture, merged by packet time.
 * - A shard (`task.shard`): Zeek reads only that shard's packets; its lines are published as the
 *   shard's, and its per-host logs are held back, because Zeek logs a host once and every shard
 *   that saw it wrote a row: they are merged when all shards are done (docs/SHARDING.md).
 */
export async function analyseTask(ctx: ServiceContext, { zeek, js, skipped }: WorkerSetup, task: Task, cancel: AbortSignal, recording?: readonly FileRecord[]): Promise<Analysis> {
  const { config, topology } = ctx;
  const profile = jobProfile(config, task.profile);
  const key = analysisKey(task.sha256, { zeekVersion: zeek.version, profile, format: config.zeek.format, skipped });
  const origin = { jobId: task.jobId, tag: task.tag, pcap: task.fileName, pcapIndex: task.fileIndex, format: config.zeek.format, shard: task.shard };

  const merged = task.merge ? recording : undefined;
  if (config.logs.reuseAnalyses && !merged && !task.shard) {
    const past = await findAnalysis(topology.analyses, key);
    if (past && past.jobId !== task.jobId) {
      const lines = await republishAnalysis(js, topology.jsm, topology.names, past, origin, config.worker.publishWindow);
      if (lines) return { lines, zeekStderr: "", zeekMs: 0, reusedFrom: { jobId: past.jobId, fileIndex: past.fileIndex }, ...(past.salvaged ? { salvaged: past.salvaged } : {}) };
    }
  }

  const workRoot = join(config.dataDir, "work");
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, `${task.jobId}-${task.fileIndex}${task.shard ? `.${task.shard.index}` : ""}-`));
  try {
    // Zeek's working directory is the temp folder itself: a folder fewer to make and remove per
    // capture (creating folders was ~8% of a worker's CPU, kernel included, on a job of many small
    // captures: ext4 allocating their inodes).
    const run = await runZeek(
      {
        bin: zeek.bin,
        captureName: task.fileName,
        cwd: dir,
        profile,
        format: config.zeek.format,
        timeLimitMs: config.zeek.timeLimitMs,
        cancel,
      },
      (stdin, stop) => {
        const opts = { salvage: config.worker.salvageTruncated, shard: task.shard };
        return merged ? feedMerged(topology.pcapBucket, merged, stdin, stop, opts) : feedCapture(topology.pcapBucket, task.object, stdin, stop, opts);
      },
    );
    const published = await publishLogs({
      js,
      names: topology.names,
      logDir: dir,
      origin,
      skipped,
      batchLines: config.worker.batchLines,
      window: config.worker.publishWindow,
      ...(task.shard ? { holdBack: PER_HOST } : {}),
    });
    const { lines } = published;
    // Recorded whether or not reuse is on, so switching it on later finds earlier analyses.
    const salvaged = run.fed.salvaged ? { salvaged: run.fed.salvaged } : {};
    if (!merged && !task.shard) await recordAnalysis(topology.analyses, key, { jobId: task.jobId, fileIndex: task.fileIndex, lines, ...salvaged });
    return { lines, zeekStderr: run.stderr, zeekMs: run.durationMs, ...salvaged, ...(task.shard ? { hostLogs: published.held } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
