import type { Topology } from "../nats/topology.js";
import { JobStore } from "./job-store.js";
import { SinkProgressStore } from "./sink-progress-store.js";

/**
 * Removes everything NATS holds of a job: the record first (a worker still busy with one of its
 * captures then finds no record and stops), then its queued tasks, captures, log lines, events
 * and sink counts. Returns false when there was no record. Files a directory sink already wrote
 * are the destination's and stay.
 */
export async function deleteJob(topology: Topology, id: string): Promise<boolean> {
  const { names, jsm } = topology;
  const job = await new JobStore(topology.jobs).get(id);
  await topology.jobs.purge(id);
  await jsm.streams.purge(names.tasksStream, { filter: names.tasksSubject(id) });
  for (const f of job?.files ?? []) await topology.pcaps.delete(f.object).catch(() => undefined);
  await jsm.streams.purge(names.logsStream, { filter: names.logsOfJob(id) });
  await jsm.streams.purge(names.eventsStream, { filter: names.eventsSubject(id) });
  await new SinkProgressStore(topology.sinks).deleteJob(id);
  return job !== null;
}
