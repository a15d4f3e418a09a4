import { BrocapiError, ErrorCodes } from "../../shared/errors.js";
import { JobEvents } from "../../shared/events/job-events.js";
import { deleteJob } from "../../shared/jobs/delete-job.js";
import { announceFinished, finishFile } from "../../shared/jobs/finish-file.js";
import { finishRecording } from "../../shared/jobs/finish-recording.js";
import { isFileFinal, isFinal, type JobHeader } from "../../shared/jobs/job-record.js";
import { indexesInStates } from "../../shared/jobs/job-shards.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { taskSchema } from "../../shared/messages/task.js";
import { jetstream, type StoredMsg } from "@nats-io/jetstream";
import type { ServiceContext } from "../../shared/service/context.js";
import { requeueTask } from "./requeue-task.js";
import { ShardStore } from "../../shared/sharding/shard-store.js";
import type { CaptureEnd } from "../../shared/sharding/finish-sharded-capture.js";
import { allShardsFinal } from "../../shared/sharding/shard-record.js";
import { settleCapture } from "../../shared/sharding/settle-capture.js";

/** How often the unfinished jobs are looked at: at most this, at least every ack wait (tests use short ones). */
const RECONCILE_EVERY_MS_MAX = 10_000;
/** Rounds of deliveries a task gets when NATS gives it up after deliveries that never reached a worker (broker faults). */
const MAX_ROUNDS = 3;
/** A capture started this many ack waits ago may still be on a worker whose delivery the consumer lost track of. */
const HOLD_ACK_WAITS = 5;
/**
 * A job marked unfinished but without a header this long after it was marked is a submission
 * whose api died between its first record and its last task: nothing was promised, so it is deleted.
 */
export const HEADERLESS_GRACE_MS = 60_000;
/** How long a job final in its header is left to the process that made it final to announce. */
export const ANNOUNCE_GRACE_MS = 10_000;

export interface ReconcileResult {
  /** Captures marked failed because their task was gone or out of deliveries. */
  failed: number;
  /** Jobs whose end was recorded or announced here. */
  finished: number;
  /** Submissions that never completed, deleted. */
  deleted: number;
}

/**
 * Every job ends, whatever was lost on the way: the reconciler looks at each unfinished job (the
 * jobs stream's `active` subjects) and settles it from what NATS keeps durably, not from one-shot
 * messages:
 *
 * - a task still in the work queue, already delivered, while the worker consumer has nothing in
 *   flight, was given up by NATS (every delivery died): its capture is failed
 *   (`BROCAPI_TASK_ABANDONED`), the task removed. (While other tasks are in flight NATS does not
 *   say which are dead, and its ack floor does not pass a given-up task either (nats-server
 *   2.9.10); the MAX_DELIVERIES advisory covers that case: at once, or, when the capture just
 *   started (held, see `abandon`), once the hold is over, looked at again by the api that heard
 *   it. An advisory no api heard is settled here once the workers are idle.)
 * - a job with no task left whose captures are not all final lost a result (a worker that
 *   could not record it before the ack, an update sent while the broker was away): a capture
 *   whose record is final is summed again, any other is failed (`BROCAPI_TASK_LOST`);
 * - a job whose captures are all final but whose header or `job.finished` was not written is
 *   finished and announced.
 *
 * Every step is a compare-and-set or idempotent, so several apis may reconcile at once. NATS's
 * MAX_DELIVERIES advisory is kept as a fast path for the first case.
 */
export class Reconciler {
  private readonly jobs: JobStore;
  private readonly events: JobEvents;
  private readonly captureEnd: CaptureEnd;

  constructor(private readonly ctx: ServiceContext) {
    this.jobs = new JobStore(ctx.topology);
    const js = jetstream(ctx.nc);
    this.events = new JobEvents(js, ctx.topology.names, ctx.log);
    const { batchLines, publishWindow } = ctx.config.worker;
    this.captureEnd = { jobs: this.jobs, shards: new ShardStore(ctx.topology.jobs, this.jobs), events: this.events, js, names: ctx.topology.names, log: ctx.log, batchLines, window: publishWindow };
  }

  async runOnce(now = Date.now()): Promise<ReconcileResult> {
    const { jsm, names } = this.ctx.topology;
    const result: ReconcileResult = { failed: 0, finished: 0, deleted: 0 };
    const consumer = await jsm.consumers.info(names.tasksStream, names.workerConsumer).catch(() => null);
    // NATS keeps no per-task delivery state an api can read; but with no task in flight anywhere,
    // a task already delivered and still queued can only be one NATS gave up on.
    const giveUp = consumer && consumer.num_ack_pending === 0 ? { delivered: consumer.delivered.stream_seq, deliveries: consumer.config.max_deliver ?? 0 } : null;
    for (const { id, since } of await this.jobs.index.active()) {
      try {
        await this.reconcileJob(id, since, giveUp, now, result);
      } catch (err) {
        this.ctx.log.warn({ event: "reconcile.failed", job: id, err: (err as Error).message }, "could not reconcile a job; next round");
      }
    }
    return result;
  }

  /**
   * A message as the stream's leader holds it. Decisions that end work are taken on these, never
   * on direct gets: a direct get may be answered by a replica that is behind (a node back from
   * an outage) and miss a write already acknowledged.
   */
  private leaderGet(stream: string, query: { last_by_subj: string } | { seq: number; next_by_subj: string }): Promise<StoredMsg | null> {
    return this.ctx.topology.jsm.streams.getMessage(stream, query as { last_by_subj: string });
  }

  private async reconcileJob(id: string, since: Date | null, giveUp: { delivered: number; deliveries: number } | null, now: number, result: ReconcileResult): Promise<void> {
    const { names } = this.ctx.topology;
    // A miss is the stream leader's answer (readKey), never a replica's that is behind.
    const header = await this.jobs.header(id);
    if (!header) {
      if (since && now - since.getTime() > HEADERLESS_GRACE_MS) {
        await deleteJob(this.ctx.topology, id);
        result.deleted++;
        this.ctx.log.warn({ event: "reconcile.submission_deleted", job: id }, "deleted a submission that never completed");
      }
      return;
    }
    if (isFinal(header.state)) {
      // Final, but still listed as unfinished: its job.finished was not stored, or not yet, or a
      // worker ended it (a worker announces but leaves the marker: JobIndex.removesMarkers). The
      // process that made the job final announces it right after its last file.finished; speaking
      // for it sooner would put job.finished first, and a follower stops reading there. Past the
      // grace, announcing again is a repeat the msg id drops (within the duplicate window).
      if (header.finishedAt && now - Date.parse(header.finishedAt) < ANNOUNCE_GRACE_MS) return;
      await announceFinished(this.jobs, this.events, id, header.state);
      result.finished++;
      return;
    }
    // Tasks first, then the captures: a task leaves the queue only after its capture was recorded.
    let remaining = false;
    for (let seq = 1; ; ) {
      const task = await this.leaderGet(names.tasksStream, { seq, next_by_subj: names.tasksSubject(id) });
      if (!task) break;
      if (!giveUp || task.seq > giveUp.delivered) {
        remaining = true;
        break;
      }
      // A task put back or left for later is still the job's work.
      if (!(await this.abandon(task, giveUp.deliveries, "no task in flight", result, now))) remaining = true;
      seq = task.seq + 1;
    }
    if (!remaining) await this.settleLost(header, result);
    const { finishedNow, summary } = await this.jobs.refresh(id);
    if (finishedNow && summary) {
      await announceFinished(this.jobs, this.events, id, summary.state);
      result.finished++;
    }
  }

  /**
   * A task NATS will not deliver again. What its capture's record says decides (for a shard's
   * task, the shard's own record):
   * - started less than HOLD_ACK_WAITS ack waits ago: a worker may still hold it (seen after a
   *   consumer leader change in a rolling restart: no ack pending while a worker analysed), so it
   *   is left for a later round, when it is final or evidently dead;
   * - never started (`queued`), or started fewer times than NATS counted deliveries (a worker
   *   counts each start in `attempts`): deliveries were lost
   *   without reaching a worker — a start not recorded while the broker failed over, pull
   *   requests that died with a node, a capture handed back whose later deliveries never
   *   arrived. That is the broker's doing, not the capture's: the task is put back as a new
   *   message for another round of deliveries (at most MAX_ROUNDS);
   * - started on every delivery and still not final: every worker that took it stopped — the
   *   capture fails (`BROCAPI_TASK_ABANDONED`) and the task goes once that is recorded.
   * Returns whether the task is settled (removed); false when it was put back or left for later.
   */
  async abandon(stored: StoredMsg, deliveries: number, seen: "advisory" | "no task in flight", result?: ReconcileResult, now = Date.now()): Promise<boolean> {
    const task = taskSchema.parse(stored.json());
    // A shard's task is judged by the shard's own record: the capture's says when its first shard
    // started and counts the most starts of any shard, not this one's.
    const shard = task.shard;
    const ref = shard && { jobId: task.jobId, fileIndex: task.fileIndex, shard, files: task.files };
    const record = ref ? await this.captureEnd.shards.shard(ref) : await this.jobs.capture(task.jobId, task.fileIndex);
    const startedAt = record?.startedAt ? Date.parse(record.startedAt) : 0;
    if (record?.state === "running" && now - startedAt < HOLD_ACK_WAITS * this.ctx.config.worker.ackWaitMs) return false;
    const lost = record?.state === "queued" || (record?.state === "running" && record.attempts < deliveries);
    if (lost && (task.round ?? 0) < MAX_ROUNDS) {
      await requeueTask(this.ctx.topology, jetstream(this.ctx.nc), stored.seq, task);
      this.ctx.log.warn({ event: "task.requeued", job: task.jobId, file: task.fileIndex, ...(shard ? { shard: shard.index } : {}), deliveries, attempts: record.attempts, round: (task.round ?? 0) + 1, seen }, "deliveries given up by NATS without reaching a worker; task put back");
      return false;
    }
    const rounds = task.round ? ` in ${task.round + 1} rounds` : "";
    const message = `abandoned after ${deliveries} deliveries${rounds}: the worker stopped (died or was killed) during every attempt`;
    const removeTask = async (): Promise<void> => {
      await this.ctx.topology.jsm.streams.deleteMessage(this.ctx.topology.names.tasksStream, stored.seq).catch(() => undefined);
    };
    // The task goes once the capture's failure is recorded, before the job's end is written.
    // A shard's task fails its shard; the capture ends (failed) with its last shard.
    const fail = { code: ErrorCodes.TASK_ABANDONED, message };
    const recordFailure = ref
      ? async (): Promise<{ changed: boolean }> => {
          const failed = await this.captureEnd.shards.finish(ref, (r) => {
            r.state = "failed";
            r.finishedAt = new Date().toISOString();
            r.error = fail;
          });
          await settleCapture(this.captureEnd, ref, failed);
          await removeTask();
          return { changed: !record || !isFileFinal(record.state) };
        }
      : null;
    // A merged recording's task ends every capture of the recording, as its worker would have.
    const outcome = await (recordFailure ? recordFailure() : finishRecording(
      this.jobs,
      this.events,
      this.ctx.log,
      task,
      (f) => {
        f.state = "failed";
        f.finishedAt = new Date().toISOString();
        f.error = fail;
      },
      removeTask,
    )).catch(async (err: unknown) => {
      // A deleted job: nothing to record, and its task has nothing left to do.
      if (!(err instanceof BrocapiError && err.code === ErrorCodes.JOB_NOT_FOUND)) throw err;
      await removeTask();
      return { changed: false };
    });
    const { changed } = outcome;
    if (changed) {
      if (result) result.failed++;
      this.ctx.log.warn({ event: "task.abandoned", job: task.jobId, file: task.fileIndex, deliveries, seen, seq: stored.seq }, "capture failed: every delivery of its task was abandoned");
    }
    return true;
  }

  /** No task of the job is left: every capture not final lost its result. */
  private async settleLost(header: JobHeader, result: ReconcileResult): Promise<void> {
    const open = indexesInStates(await this.jobs.shards(header), new Set(["queued", "running"]));
    for (const file of await this.jobs.captures(header.id, open)) {
      if (isFileFinal(file.state)) {
        await this.jobs.record(header.id, header.files, file);
        continue;
      }
      // A sharded capture is told of every shard its own record says is final (an update of
      // the capture may have been lost) and, with all of them final, ends here (merge, then
      // final state). Only shards no record calls final lost their result.
      if (file.shards) {
        const told = await settleCapture(this.captureEnd, { jobId: header.id, fileIndex: file.index, files: header.files }, null);
        if (isFileFinal(told.state) || (told.shards && allShardsFinal(told.shards.states))) continue;
      }
      await finishFile(this.jobs, this.events, this.ctx.log, header.id, file.index, (f) => {
        f.state = "failed";
        f.finishedAt = new Date().toISOString();
        f.error = { code: ErrorCodes.TASK_LOST, message: `its task left the work queue without a recorded result (state was ${file.state})` };
      }, header.files);
      result.failed++;
      this.ctx.log.warn({ event: "task.lost", job: header.id, file: file.index, state: file.state }, "capture failed: its task is gone and no result was recorded");
    }
  }
}

/**
 * Runs the reconciler every `min(10 s, ackWaitMs)` (skipped while NATS is away), and handles the
 * MAX_DELIVERIES advisory (one api of several, by queue group): at once, or after the hold.
 */
export function startReconciler(ctx: ServiceContext): { reconciler: Reconciler; stop(): void } {
  const reconciler = new Reconciler(ctx);
  const { names, jsm } = ctx.topology;
  const log = ctx.log.child({ subsystem: "reconciler" });
  let running = false;
  const tick = (): void => {
    if (running || !ctx.connection.connected) return;
    running = true;
    reconciler
      .runOnce()
      .then(
        (r) => (r.failed || r.finished || r.deleted) && log.info({ event: "reconcile.done", ...r }, "reconciled unfinished jobs"),
        (err: unknown) => log.warn({ event: "reconcile.failed", err: (err as Error).message }, "reconcile round failed"),
      )
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, Math.min(RECONCILE_EVERY_MS_MAX, ctx.config.worker.ackWaitMs));
  timer.unref();
  const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${names.tasksStream}.${names.workerConsumer}`;
  const sub = ctx.nc.subscribe(subject, { queue: `${names.workerConsumer}-abandoned` });
  // The advisory is sent once, and while workers are busy the rounds above never see a given-up
  // task: a task left for later (its capture just started: held) or not settled (NATS away) is
  // looked at again once a hold is over, from the task and capture records, until it is settled
  // or has left the queue (put back as a new message, removed by another api).
  const hold = HOLD_ACK_WAITS * ctx.config.worker.ackWaitMs;
  const rechecks = new Set<NodeJS.Timeout>();
  const settle = async (seq: number, deliveries: number): Promise<void> => {
    const settled = await jsm.streams
      .getMessage(names.tasksStream, { seq })
      .then((stored) => !stored || reconciler.abandon(stored, deliveries, "advisory"))
      .catch((err: unknown) => {
        log.warn({ event: "task.abandoned_failed", seq, err: (err as Error).message }, "could not handle an abandoned task; looked at again after the hold");
        return false;
      });
    if (settled) return;
    const recheck = setTimeout(() => {
      rechecks.delete(recheck);
      void settle(seq, deliveries);
    }, hold);
    recheck.unref();
    rechecks.add(recheck);
  };
  void (async () => {
    for await (const m of sub) {
      try {
        const advisory = m.json<{ stream_seq: number; deliveries: number }>();
        await settle(advisory.stream_seq, advisory.deliveries);
      } catch (err) {
        log.warn({ event: "task.abandoned_failed", err: (err as Error).message }, "could not read an advisory; the reconciler will settle its task once the workers are idle");
      }
    }
  })();
  return {
    reconciler,
    stop() {
      clearInterval(timer);
      for (const recheck of rechecks) clearTimeout(recheck);
      sub.unsubscribe();
    },
  };
}
