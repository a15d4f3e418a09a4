import { jetstream } from "@nats-io/jetstream";
import { taskSchema } from "../../shared/messages/task.js";
import { ensureWorkerConsumer } from "../../shared/nats/topology.js";
import type { Stack } from "./stack.js";

/**
 * Takes `count` tasks from the work queue, as a worker would, without running them; sorted by
 * capture, then shard. The caller acks, naks or drops each message.
 */
export async function takeTasks(stack: Stack, count: number) {
  await ensureWorkerConsumer(stack.ctx.topology, stack.config);
  const consumer = await jetstream(stack.ctx.nc).consumers.get(stack.ctx.topology.names.tasksStream, stack.ctx.topology.names.workerConsumer);
  const taken = [];
  while (taken.length < count) {
    const m = await consumer.next({ expires: 2_000 });
    if (m) taken.push({ m, task: taskSchema.parse(m.json()) });
  }
  return taken.sort((a, b) => a.task.fileIndex - b.task.fileIndex || (a.task.shard?.index ?? 0) - (b.task.shard?.index ?? 0));
}
