import type { Topology } from "../nats/topology.js";
import { removeObjects } from "../objects/remove-objects.js";
import { JobStore } from "./job-store.js";
import { SinkProgressStore } from "./sink-progress-store.js";

/**
 * Removes everything NATS holds of a job: the records first (a worker still busy with one of its
 * captures then finds no record and stops), then its queued tasks, captures, log lines, events,
 * sink counts and its place among unfinished jobs. Returns false when there was no record. Works
 * on a job whose submission did not complete (no header yet). Files a directory sink already
 * wrote are the destination's and stay.
 */
export async function deleteJob(topology: Topology, id: string): Promise<boolean> {
  const { names, jsm } = topology;
  const jobs = new JobStore(topology);
  const header = await jobs.header(id);
  await jobs.purge(id);
  await jsm.streams.purge(names.tasksStream, { filter: names.tasksSubject(id) });
  await removeObjects(topology.pcaps, Array.from({ length: header?.files ?? 0 }, (_, i) => `${id}/${i}`));
  await jsm.streams.purge(names.logsStream, { filter: names.logsOfJob(id) });
  await jsm.streams.purge(names.eventsStream, { filter: names.eventsSubject(id) });
  await new SinkProgressStore(topology.sinks).deleteJob(id);
  await jobs.index.unmarkActive(id);
  return header !== null;
}
