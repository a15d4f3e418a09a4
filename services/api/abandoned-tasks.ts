import type { Subscription } from "@nats-io/transport-node";
import { ErrorCodes } from "../../shared/errors.js";
import { JobEvents } from "../../shared/events/job-events.js";
import { finishFile } from "../../shared/jobs/finish-file.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { taskSchema } from "../../shared/messages/task.js";
import { jetstream } from "@nats-io/jetstream";
import type { ServiceContext } from "../../shared/service/context.js";

/**
 * A task whose every allowed delivery ended without an ack (its worker died each time, e.g. Zeek
 * exhausting memory) is never delivered again, and no worker is left to say so. NATS announces
 * it with a MAX_DELIVERIES advisory (when a worker next asks for work): the api (one of its
 * replicas, by queue group) marks the capture failed and removes the task from the work queue.
 */
export function watchAbandonedTasks(ctx: ServiceContext): Subscription {
  const { names, jsm } = ctx.topology;
  const log = ctx.log.child({ subsystem: "api" });
  const jobs = new JobStore(ctx.topology.jobs);
  const events = new JobEvents(jetstream(ctx.nc), names, log);
  const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${names.tasksStream}.${names.workerConsumer}`;
  const sub = ctx.nc.subscribe(subject, { queue: `${names.workerConsumer}-abandoned` });
  void (async () => {
    for await (const m of sub) {
      try {
        const advisory = m.json<{ stream_seq: number; deliveries: number }>();
        const stored = await jsm.streams.getMessage(names.tasksStream, { seq: advisory.stream_seq });
        if (!stored) continue;
        const task = taskSchema.parse(stored.json());
        const current = await jobs.get(task.jobId);
        const file = current?.files[task.fileIndex];
        if (file && file.state !== "done" && file.state !== "failed") {
          const message = `abandoned after ${advisory.deliveries} deliveries: the worker stopped (died or was killed) during every attempt`;
          await finishFile(jobs, events, task.jobId, task.fileIndex, (f) => {
            f.state = "failed";
            f.finishedAt = new Date().toISOString();
            f.error = { code: ErrorCodes.TASK_ABANDONED, message };
          });
          log.warn({ event: "task.abandoned", job: task.jobId, file: task.fileIndex, deliveries: advisory.deliveries }, "capture failed: every delivery of its task was abandoned");
        }
        await jsm.streams.deleteMessage(names.tasksStream, advisory.stream_seq);
      } catch (err) {
        log.warn({ event: "task.abandoned_failed", err: (err as Error).message }, "could not handle an abandoned task");
      }
    }
  })();
  return sub;
}
