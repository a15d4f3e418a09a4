import type { JobHeader } from "./job-record.js";
import type { JobStatus } from "./job-status-schema.js";
import { deliversJob, isLive, listedOn } from "./sink-presence.js";
import type { SinkInstances, SinkProgressRecord } from "./sink-progress-store.js";
import { acceptedTotal } from "./sink-routing.js";

type SinkStatus = JobStatus["sinks"][string];

/**
 * What `GET /jobs/:id` says of each sink instance: every one with a record for the job, and every
 * one known to owe the job lines without having reported it yet: seen (running, or stopped:
 * `running` false), delivering jobs from before this one's submission, and with a routing that
 * accepts some of its lines (`lines` 0, no `updatedAt`). So a client waiting for delivery waits
 * for a running instance whose first count is still to come. `expected` is counted by the rule
 * the instance's audit applies (acceptedLines); `now` (ms) judges who is running.
 * `logsKeptForMs` is how long the LOGS stream keeps lines (0: for ever): a stopped instance last
 * seen more than that before the job's submission is left out (listedOn), and so is every
 * instance without a record once the job was submitted longer ago than that.
 */
export function jobSinks(
  header: Pick<JobHeader, "tag" | "submittedAt">,
  lines: Readonly<Record<string, number>>,
  read: SinkInstances & { records: Record<string, SinkProgressRecord> },
  now: number,
  logsKeptForMs: number,
): Record<string, SinkStatus> {
  const out: Record<string, SinkStatus> = {};
  // A job older than the stream keeps lines has begun losing them: an instance that has not
  // reported it by now never gets them whole (a `start: all` one added since began at what was left).
  const linesKept = logsKeptForMs === 0 || now - Date.parse(header.submittedAt) <= logsKeptForMs;
  for (const name of new Set([...Object.keys(read.records), ...Object.keys(read.seen)])) {
    const record = read.records[name];
    const seen = read.seen[name];
    // Without a record, the cheap tests first: the registry keeps every instance ever seen, and
    // its routing is counted (per status read) only for one that may be listed.
    if (!record && !(seen && linesKept && deliversJob(seen, header.submittedAt) && listedOn(seen, header.submittedAt, logsKeptForMs))) continue;
    const route = read.routing[name];
    const expected = route ? { expected: acceptedTotal(lines, header.tag, route) } : {};
    const presence = seen ? { seenAt: seen.at, running: isLive(seen, now) } : {};
    if (record) out[name] = { ...record, ...expected, ...presence };
    else if ((expected.expected ?? 0) > 0) out[name] = { lines: 0, ...expected, ...presence };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
