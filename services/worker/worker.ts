import { hostname } from "node:os";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { BrocapiError, ErrorCodes, ZeekError } from "../../shared/errors.js";
import { isBrokerUnavailable } from "../../shared/nats/broker-errors.js";
import { finishRecording } from "../../shared/jobs/finish-recording.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { taskSchema, type Task } from "../../shared/messages/task.js";
import type { AnalysedBy, FileRecord } from "../../shared/jobs/job-record.js";
import type { Salvage } from "../../shared/pcap/whole-packets.js";
import { ensureWorkerConsumer } from "../../shared/nats/topology.js";
import { findExecutable } from "../../shared/process/find-executable.js";
import { backoffMs, sleep } from "../../shared/service/backoff.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { JobEvents } from "../../shared/events/job-events.js";
import { metrics } from "../../shared/metrics/registry.js";
import { zeekVersion } from "../../shared/zeek/zeek-version.js";
import { skippedLogTypes } from "../../shared/zeek/log-types.js";
import { analyseTask, type WorkerSetup } from "./analyse-task.js";
import { ShardStore, type ShardRef } from "../../shared/sharding/shard-store.js";
import type { Outcome } from "../../shared/sharding/shard-record.js";
import type { HostLogs } from "../../shared/sharding/host-logs.js";
import type { CaptureEnd } from "../../shared/sharding/finish-sharded-capture.js";
import { settleCapture } from "../../shared/sharding/settle-capture.js";

const ZEEK_FALLBACKS = ["/opt/zeek/bin/zeek", "/usr/local/zeek/bin/zeek"];
/** On SIGTERM, running analyses get this long to finish before Zeek is stopped and the task handed back. */
const DRAIN_TIMEOUT_MS = 30_000;
/** The closest a running task's heartbeats come: bounds the messages a very short ack wait costs. */
const HEARTBEAT_MIN_MS = 100;

/** The warning a salvaged capture carries: what was analysed, what was lost. */
function salvageWarning(name: string, s: Salvage): string {
  return `${name} was cut off mid-packet: analysed its first ${s.packetsKept} packets (${s.bytesKept} bytes), dropped the last ${s.bytesDropped} bytes`;
}

/** Who this worker is, recorded on every capture it analyses. */
export function workerIdentity(name: string | undefined): AnalysedBy {
  const host = hostname();
  return { host, pid: process.pid, worker: name ?? `${host}:${process.pid}` };
}

/** Finds Zeek at start-up, so a missing binary is one clear message rather than a failed task per capture. */
export function resolveZeek(explicit: string | undefined): string {
  const bin = findExecutable("zeek", explicit, ZEEK_FALLBACKS);
  if (!bin) {
    throw new BrocapiError(
      ErrorCodes.ZEEK_NOT_FOUND,
      `Zeek not found (${explicit ? `ZEEK_BIN=${explicit} is not executable` : `no zeek on PATH or in ${ZEEK_FALLBACKS.join(", ")}`}). Install Zeek (README: "Installing Zeek") or set ZEEK_BIN.`,
      { permanent: true },
    );
  }
  return bin;
}

/**
 * Zeek workers: `concurrency` loops, each pulling one task at a time from the shared durable
 * consumer, heartbeating it while Zeek runs and its logs are published, then:
 * ack (done), term (Zeek refused the capture, or the last delivery failed: the file is failed),
 * or nak with backoff (anything transient: another worker, or this one, tries again).
 */
export async function startWorker(ctx: ServiceContext): Promise<RunningService> {
  const { config, topology } = ctx;
  const log = ctx.log.child({ subsystem: "worker" });
  const bin = resolveZeek(config.zeek.bin);
  const zeek = { bin, version: await zeekVersion(bin) };
  await ensureWorkerConsumer(topology, config);
  const js = jetstream(ctx.nc);
  const setup: WorkerSetup = { zeek, js, skipped: skippedLogTypes(config.logs.blacklist) };
  const consumer = await js.consumers.get(topology.names.tasksStream, topology.names.workerConsumer);
  // The jobs this worker ends stay marked unfinished until the api's reconciler unmarks them: the
  // worker's NATS user may not purge the jobs stream (deploy/nats/secure.conf).
  const jobs = new JobStore(topology, { removesMarkers: false });
  const events = new JobEvents(js, topology.names, log);
  const analysedBy = workerIdentity(config.worker.name);

  const shardStore = new ShardStore(topology.jobs, jobs);
  const captureEnd: CaptureEnd = { jobs, shards: shardStore, events, js, names: topology.names, log, batchLines: config.worker.batchLines, window: config.worker.publishWindow };
  const shardRef = (task: Task & { shard: NonNullable<Task["shard"]> }): ShardRef => ({ jobId: task.jobId, fileIndex: task.fileIndex, shard: task.shard, files: task.files });

  /**
   * Records an attempt's end; `settle` (ack or term) runs once it is recorded: for a capture, its
   * key and summary shard; for one shard of a capture, the shard and the capture's state
   * characters, and — when it was the capture's last shard — the capture's end (docs/SHARDING.md).
   * In merge mode the other captures of the recording end first (finishRecording): if the worker
   * dies between, the task comes back and capture 0, not yet final, is analysed again. A sharded
   * recording's shards are capture 0's: its last shard ends the recording that way, once capture
   * 0 is settled (finishShardedCapture).
   */
  const finish = async (task: Task, change: (f: Outcome & Partial<Pick<FileRecord, "reusedFrom">>) => void, settle: () => void, hostLogs?: HostLogs): Promise<void> => {
    if (!task.shard) {
      await finishRecording(jobs, events, log, task, change, settle);
      return;
    }
    const ref = shardRef({ ...task, shard: task.shard });
    const shard = await shardStore.finish(ref, change, hostLogs);
    await settleCapture(captureEnd, ref, shard, settle);
  };

  /** Marks an attempt started; `final` when its capture (or shard) already ended. */
  const begin = async (task: Task, attempt: number, startedAt: string): Promise<{ final: boolean; started: boolean }> => {
    if (task.shard) {
      const { final, captureStarted } = await shardStore.start(shardRef({ ...task, shard: task.shard }), attempt, analysedBy, startedAt);
      return { final, started: captureStarted };
    }
    const { wasFinal } = await jobs.updateCapture(
      task.jobId,
      task.fileIndex,
      (f) => {
        f.state = "running";
        // Every start counts, also when NATS's delivery count says otherwise (it can start
        // over): the reconciler compares the starts with the deliveries NATS gave up after.
        f.attempts = Math.max(f.attempts + 1, attempt);
        f.startedAt = startedAt;
        f.analysedBy = analysedBy;
      },
      { files: task.files },
    );
    return { final: wasFinal, started: true };
  };
  const cancel = new AbortController();
  let stopping = false;

  const handle = async (m: JsMsg): Promise<void> => {
    let task: Task;
    try {
      task = taskSchema.parse(m.json());
    } catch (err) {
      log.error({ event: "task.malformed", err: (err as Error).message, seq: m.seq }, "task message is not a task; terminated");
      m.term();
      return;
    }
    const attempt = m.info.deliveryCount;
    const tlog = log.child({ job: task.jobId, file: task.fileIndex, pcap: task.fileName, attempt, ...(task.shard ? { shard: `${task.shard.index}/${task.shard.count}` } : {}) });
    // A third of the ack wait apart, so one late or lost heartbeat does not hand the running task
    // to another worker (a floor of a second lost that race at an ack wait of a second).
    const heartbeat = setInterval(() => m.working(), Math.max(HEARTBEAT_MIN_MS, Math.floor(config.worker.ackWaitMs / 3)));
    const started = Date.now();
    // Acked or terminated: the capture's result is recorded; what remains is the job's (header, job.finished).
    let settled = false;
    const settle = (how: "ack" | "term") => (): void => {
      if (settled) return;
      settled = true;
      if (how === "ack") m.ack();
      else m.term();
    };
    try {
      const begun = await begin(task, attempt, new Date(started).toISOString());
      if (begun.final) {
        // Delivered again after its result was recorded (a crash before the ack, a NATS restart
        // forgetting it): the update above completed the record; nothing to run again. A shard
        // recorded final whose capture was not told (a crash, a lost compare-and-set) tells it
        // now, and ends the capture if it was the last.
        if (task.shard) await settleCapture(captureEnd, task, null);
        m.ack();
        tlog.info({ event: "task.already_final" }, "capture already final; task acked");
        return;
      }
      if (begun.started) await events.publish(task.jobId, { type: "file.started", fileIndex: task.fileIndex, name: task.fileName, attempt });
      tlog.info({ event: "task.started", merge: task.merge }, task.merge ? `analysing ${task.files} captures as one recording` : "analysing capture");
      const recording = task.merge ? await jobs.captures(task.jobId, [...Array(task.files ?? 1).keys()]) : undefined;
      const result = await analyseTask(ctx, setup, task, cancel.signal, recording);
      // Before file.finished: a client following the job stops at job.finished. Every shard
      // sees the same cut: shard 0 says so.
      if (result.salvaged && (task.shard?.index ?? 0) === 0) {
        const warning = salvageWarning(task.fileName, result.salvaged);
        await events.publish(task.jobId, { type: "file.warning", fileIndex: task.fileIndex, name: task.fileName, code: ErrorCodes.CAPTURE_TRUNCATED, message: warning });
        tlog.warn({ event: "task.salvaged", ...result.salvaged }, warning);
      }
      await finish(task, (f) => {
        f.state = "done";
        f.lines = result.lines;
        f.finishedAt = new Date().toISOString();
        f.durationMs = Date.now() - started;
        if (result.reusedFrom) f.reusedFrom = result.reusedFrom;
        else f.zeekExitCode = 0;
        if (result.zeekStderr) f.zeekStderr = result.zeekStderr;
        if (result.salvaged) f.salvaged = result.salvaged;
        else delete f.salvaged;
        delete f.error;
      }, settle("ack"), result.hostLogs);
      settle("ack")();
      metrics.zeekRuns.inc({ result: result.reusedFrom ? "reused" : "done" });
      if (!result.reusedFrom) metrics.zeekSeconds.observe({}, result.zeekMs / 1000);
      for (const [type, n] of Object.entries(result.lines)) metrics.linesPublished.inc({ log: type }, n);
      tlog.info({ event: "task.done", lines: result.lines, zeekMs: result.zeekMs, reused: Boolean(result.reusedFrom), ms: Date.now() - started }, "capture analysed");
    } catch (err) {
      const permanent = err instanceof BrocapiError && err.permanent;
      const lastTry = attempt >= config.worker.maxDeliver;
      const code = err instanceof BrocapiError ? err.code : "BROCAPI_INTERNAL";
      const message = (err as Error).message;
      if (settled) {
        // The capture is recorded and its task settled; the reconciler ends the job if this could not.
        tlog.warn({ event: "job.update_failed", err: message }, "capture recorded; updating its job failed");
      } else if (err instanceof BrocapiError && err.code === ErrorCodes.JOB_NOT_FOUND) {
        // The job was deleted while this capture was queued or running: nothing left to record.
        m.term();
        tlog.info({ event: "task.dropped", code }, "job deleted; task dropped");
      } else if (permanent || (lastTry && !isBrokerUnavailable(err))) {
        let recorded = true;
        await finish(task, (f) => {
          f.state = "failed";
          f.finishedAt = new Date().toISOString();
          f.durationMs = Date.now() - started;
          f.error = { code, message: lastTry && !permanent ? `gave up after ${attempt} attempts: ${message}` : message };
          if (err instanceof ZeekError) {
            f.zeekStderr = err.details.stderr;
            if (err.details.exitCode !== undefined) f.zeekExitCode = err.details.exitCode;
          }
        }, settle("term")).catch((e: unknown) => {
          recorded = settled;
          tlog.error({ event: "job.update_failed", err: (e as Error).message }, "could not record the failure");
        });
        // Unrecorded with deliveries left: try again, so the failure is recorded with its reason;
        // on the last delivery the reconciler marks it failed once the task is gone.
        if (!recorded && !lastTry) m.nak(backoffMs(attempt, 1_000, 60_000));
        else settle("term")();
        metrics.zeekRuns.inc({ result: "failed" });
        tlog.warn({ event: "task.failed", code, err: message, permanent }, "capture failed");
      } else {
        // Also on the last delivery when the broker was away: that is not the capture's failure.
        // NATS then gives the task up, and the reconciler puts it back if no start used it up.
        const delay = stopping ? 0 : backoffMs(attempt, 1_000, 60_000);
        m.nak(delay);
        metrics.zeekRuns.inc({ result: "retried" });
        tlog.warn({ event: "task.retry", code, err: message, retryInMs: delay }, "capture handed back for another try");
      }
    } finally {
      clearInterval(heartbeat);
    }
  };

  const loops = Array.from({ length: config.worker.concurrency }, async () => {
    while (!stopping) {
      let m: JsMsg | null = null;
      try {
        // Long enough that a busy machine's stalled event loop does not make the client give
        // the request up (two missed idle heartbeats) while the server still sends it a task,
        // which would then wait out the ack wait and count a delivery; a stop waits for it.
        m = await consumer.next({ expires: 5_000 });
      } catch (err) {
        if (stopping) break;
        log.warn({ event: "task.fetch_failed", err: (err as Error).message }, "fetching a task failed; retrying");
        await sleep(1_000);
      }
      if (m) await handle(m);
    }
  });

  log.info({ event: "worker.started", zeek: bin, zeekVersion: zeek.version, concurrency: config.worker.concurrency }, "worker started");
  return {
    async stop() {
      stopping = true;
      const drained = Promise.all(loops);
      const timer = setTimeout(() => cancel.abort(), DRAIN_TIMEOUT_MS);
      await drained;
      clearTimeout(timer);
      log.info({ event: "worker.stopped" }, "worker stopped");
    },
  };
}
