// When a job's log lines have reached its sinks, judged one way by `brocapi submit --wait` and by
// the web page's job view (which loads this file in the browser): it imports nothing at run time.
import type { Job, SinkProgress } from "./api-types.js";

/** What delivery is judged on: the lines the job published, what each sink's routing accepts of them and what it made of them. */
type Delivery = Pick<Job, "lines"> & { sinks: Record<string, Pick<SinkProgress, "lines" | "rejected" | "replayed" | "audit" | "expected" | "running">> };

/** How long, after the analysis, the sinks' counts may stay still before the wait for them ends. */
export const DELIVERY_STALL_MS = 30_000;

/** Lines the job published, every log type together. */
export function published(job: Delivery): number {
  return Object.values(job.lines).reduce((a, b) => a + b, 0);
}

/**
 * The lines a sink must end up with: those its routing accepts (`expected`, counted by the api as
 * the sink's audit counts them), or every published line from an api that does not say.
 */
export const sinkExpected = (p: Pick<SinkProgress, "expected">, published: number): number => p.expected ?? published;

/**
 * Whether a sink owes the job nothing more: it delivered or rejected every line its routing
 * accepts (a rejected line, refused for good, is never delivered later), or its audit found lines
 * missing once its consumer had passed the job and either replayed them (counted as replayed) or
 * reported them (nothing more comes by itself; docs/SINKS.md, "The audit").
 */
function sinkSettled(p: Delivery["sinks"][string], total: number): boolean {
  if (p.audit?.action === "report") return true;
  const repaired = p.audit?.action === "replay" ? (p.replayed ?? 0) : 0;
  return p.lines + (p.rejected ?? 0) + repaired >= sinkExpected(p, total);
}

/**
 * What a wait for delivery takes as a sink's progress: its counts, its audit's action and whether
 * it runs. Not `seenAt` nor `updatedAt`: a running instance's presence refresh moves `seenAt`
 * every 30 s (and a sink retrying a failed write records its error again) without a line
 * delivered; taken as progress, a sink stuck short would never let the wait give up
 * (DELIVERY_STALL_MS).
 */
export const sinkProgressKey = (p: Pick<SinkProgress, "lines" | "rejected" | "replayed" | "audit" | "running">): string =>
  `${p.lines}/${p.rejected ?? 0}/${p.replayed ?? 0}/${p.audit?.action ?? ""}/${p.running !== false}`;

/** Every listed sink's progress (sinkProgressKey) as one string: a sink newly listed is progress too. */
export const deliveryProgress = (sinks: Delivery["sinks"]): string =>
  Object.entries(sinks)
    .map(([name, p]) => `${name}=${sinkProgressKey(p)}`)
    .join(" ");

/**
 * True once there is nothing more to wait for: the job published no line, or at least one sink
 * the api lists and does not know to be stopped, and every such sink is settled (sinkSettled).
 * The api lists every sink that reported and every running one that owes the job lines and has
 * not reported yet (at 0), so a running sink's first count is waited for; a stopped one
 * (`running: false`) is not: what it owes ships when it starts again. With no such sink listed,
 * a first count may still be on its way (from a sink whose shipper does not say it runs): not done.
 */
export function deliveryDone(job: Delivery): boolean {
  const total = published(job);
  const sinks = Object.values(job.sinks).filter((p) => p.running !== false);
  return total === 0 || (sinks.length > 0 && sinks.every((p) => sinkSettled(p, total)));
}
