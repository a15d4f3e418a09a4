import type { JetStreamClient } from "@nats-io/jetstream";
import { taskMsgId, type Task } from "../../shared/messages/task.js";
import type { Topology } from "../../shared/nats/topology.js";

/**
 * Puts a task NATS gave up on back in the work queue as a new message (its next round, with a msg
 * id of its own so the duplicate window does not drop it), then removes the given-up one. Should
 * the removal fail, the next reconcile round finds the old message again and puts it back under
 * the same msg id: the server drops that copy.
 */
export async function requeueTask(topology: Pick<Topology, "jsm" | "names">, js: JetStreamClient, seq: number, task: Task): Promise<void> {
  const next: Task = { ...task, round: (task.round ?? 0) + 1 };
  await js.publish(topology.names.tasksSubject(task.jobId), JSON.stringify(next), { msgID: taskMsgId(next) });
  await topology.jsm.streams.deleteMessage(topology.names.tasksStream, seq);
}
